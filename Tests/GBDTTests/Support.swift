import Foundation
import FsmlCore

@testable import GBDT

enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures"
    ).path

    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fsml-gbdt-\(UUID().uuidString)-\(name)").path
    }

    /// A seeded synthetic binary set with missing values: label drivers in features 0-2.
    static func synthetic(rows: Int, features: Int = 6, seed: UInt64, missing: Double = 0.05) -> LabeledData {
        var rng = SeededRandom(seed: seed)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<rows {
            var row = (0..<features).map { _ in Float(rng.normal()) }
            let logit = 1.2 * Double(row[0]) - 0.8 * Double(row[1]) + (row[2] > 0.3 ? 0.9 : -0.4)
            labels.append(rng.uniform() < 1 / (1 + exp(-logit)) ? 1 : 0)
            for j in 0..<features where rng.uniform() < missing { row[j] = .nan }
            values += row
        }
        return LabeledData(features: DenseMatrix(rows: rows, columns: features, values: values), labels: labels)
    }

    static func params(_ settings: [String]) -> TrainingParams {
        var p = TrainingParams()
        try! p.apply(settings)
        return p
    }
}
