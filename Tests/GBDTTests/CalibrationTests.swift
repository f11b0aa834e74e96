import Foundation
import FsmlCore
import Testing

@testable import GBDT

/// Calibrations against scikit-learn 1.9 (IsotonicRegression, the sigmoid fit of
/// CalibratedClassifierCV) on the same inputs, and through the model file and the predictor.
@Suite struct CalibrationTests {
    @Test func isotonicEqualsScikitLearns() {
        let x = [0.1, 0.2, 0.2, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        let y: [Float] = [0, 1, 0, 0, 1, 0, 1, 1, 0, 1]
        guard case .isotonic(let px, let py) = Calibration.fitIsotonic(predictions: x, labels: y) else {
            Issue.record("not isotonic")
            return
        }
        #expect(px == [0.1, 0.2, 0.35, 0.4, 0.5, 0.6, 0.8, 0.9])
        let expected = [0, 1.0 / 3, 1.0 / 3, 0.5, 0.5, 2.0 / 3, 2.0 / 3, 1]
        #expect(zip(py, expected).allSatisfy { abs($0 - $1) < 1e-15 })
        let c = Calibration.isotonic(x: px, y: py)
        let sklearn = [0.0, 0.1666666666666666, 0.3333333333333333, 0.5, 0.5833333333333334, 0.6666666666666666, 1.0]
        for (p, want) in zip([0.05, 0.15, 0.3, 0.45, 0.55, 0.75, 0.95], sklearn) {
            #expect(abs(c.apply(p) - want) < 1e-12, "at \(p)")
        }
    }

    @Test func plattEqualsScikitLearns() {
        let p = (0..<200).map { 0.02 + 0.96 * Double(($0 * 37) % 200) / 199 }
        let y = (0..<200).map { Double(($0 * 53) % 100) / 100 < pow(p[$0], 1.5) ? Float(1) : 0 }
        #expect(y.count { $0 == 1 } == 81)
        guard case .platt(let a, let b) = Calibration.fitPlatt(predictions: p, labels: y) else {
            Issue.record("not platt")
            return
        }
        #expect(abs(a - -1.044425582320982) < 1e-5 && abs(b - 0.5687440682057401) < 1e-5, "a \(a), b \(b)")
    }

    @Test func isotonicIsMonotoneAndAveragesViolators() {
        var rng = SeededRandom(seed: 5)
        let p = (0..<2000).map { _ in rng.uniform() }
        let y = p.map { rng.bernoulli($0 * $0) ? Float(1) : 0 }
        let c = Calibration.fitIsotonic(predictions: p, labels: y)
        let grid = (0...100).map { Double($0) / 100 }.map(c.apply)
        #expect(zip(grid, grid.dropFirst()).allSatisfy { $0 <= $1 })
        // Pooling keeps the mean: the calibrated predictions of the fitting rows sum to the positives.
        let total = p.map(c.apply).reduce(0, +)
        #expect(abs(total - Double(y.count { $0 == 1 })) < 1e-6)
    }

    @Test func aCalibratedModelRoundTripsAndEveryScorerAppliesIt() throws {
        var tree = Tree()
        tree.splitFeature = [0]
        tree.threshold = [0.5]
        tree.defaultLeft = [true]
        tree.leftChild = [~0]
        tree.rightChild = [~1]
        tree.splitGain = [1]
        tree.internalValue = [0]
        tree.internalHessian = [2]
        tree.internalCount = [2]
        tree.leafValue = [-1, 1]
        tree.leafHessian = [1, 1]
        tree.leafCount = [1, 1]
        let calibration = Calibration.platt(a: -2, b: 0.25)
        let model = GBDTModel(
            objective: .binary, initScore: 0, trees: [tree], featureNames: ["x"], calibration: calibration)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-cal-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        #expect(try FileSystem.readText(path).contains("\"format_version\":2"))
        let loaded = try GBDTModel.load(path: path)
        #expect(loaded == model)
        let raw = 1 / (1 + exp(-1.0))
        let want = 1 / (1 + exp(-2 * log(raw / (1 - raw)) + 0.25))
        #expect(abs(loaded.predict([0.9]) - want) < 1e-15)
        #expect(abs(FlatPredictor(loaded).predict([0.9]) - want) < 1e-15)
        #expect(abs(FlatPredictor(loaded).predict(DenseMatrix(rows: 1, columns: 1, values: [0.9]))[0] - want) < 1e-15)
        // Without a calibration, files stay version 1 for readers that know only it.
        var plain = model
        plain.calibration = nil
        try plain.save(to: path)
        #expect(try FileSystem.readText(path).contains("\"format_version\":1"))
    }
}
