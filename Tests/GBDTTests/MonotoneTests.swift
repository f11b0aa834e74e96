import FsmlCore
import Testing

@testable import GBDT

/// Monotone constraints: the whole model keeps each constrained feature's direction, at every
/// value of every other feature, where the same data unconstrained does not.
@Suite struct MonotoneTests {
    /// y rises with x0 overall but with a dip, falls with x1 with a bump, and x2 is noise.
    static func data(rows: Int = 3000) -> LabeledData {
        var rng = SeededRandom(seed: 12)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<rows {
            let (a, b, c) = (rng.uniform(), rng.uniform(), rng.uniform())
            values += [Float(a), Float(b), Float(c)]
            let dip = a > 0.4 && a < 0.55 ? -0.8 : 0.0
            let bump = b > 0.6 && b < 0.7 ? 0.7 : 0.0
            labels.append(Float(2 * a + dip - 1.5 * b + bump + 0.3 * rng.normal()))
        }
        return LabeledData(features: DenseMatrix(rows: rows, columns: 3, values: values), labels: labels)
    }

    /// The largest step against `direction` of feature f over a grid, at other values taken from
    /// the data's rows.
    static func worstViolation(_ model: GBDTModel, feature f: Int, direction: Double, data: LabeledData) -> Double {
        var worst = 0.0
        for r in stride(from: 0, to: data.rows, by: 37) {
            var row = Array(data.features.values[r * 3..<(r + 1) * 3])
            var previous: Double?
            for k in 0...50 {
                row[f] = Float(k) / 50
                let p = model.predict(row)
                if let q = previous { worst = max(worst, direction * (q - p)) }
                previous = p
            }
        }
        return worst
    }

    @Test func theModelKeepsEveryConstrainedDirection() throws {
        let data = Self.data()
        let common = [
            "objective=regression", "num_iterations=60", "num_leaves=15", "min_data_in_leaf=10", "num_threads=1",
        ]
        let free = try Booster.train(data, params: Fixture.params(common)).model
        #expect(Self.worstViolation(free, feature: 0, direction: 1, data: data) > 0.05)
        #expect(Self.worstViolation(free, feature: 1, direction: -1, data: data) > 0.05)
        let constrained = try Booster.train(
            data, params: Fixture.params(common + ["monotone_constraints=1,-1,0"])
        ).model
        #expect(Self.worstViolation(constrained, feature: 0, direction: 1, data: data) == 0)
        #expect(Self.worstViolation(constrained, feature: 1, direction: -1, data: data) == 0)
        #expect(constrained.parameters["monotone_constraints"] == "1,-1,0")
        // Still a useful model: it rises with x0 and falls with x1 overall.
        #expect(constrained.predict([0.9, 0.5, 0.5]) - constrained.predict([0.1, 0.5, 0.5]) > 1)
        #expect(constrained.predict([0.5, 0.1, 0.5]) - constrained.predict([0.5, 0.9, 0.5]) > 0.8)
    }

    @Test func constraintsAreCheckedAgainstTheData() {
        let data = Self.data(rows: 50)
        #expect {
            try Booster.train(data, params: Fixture.params(["objective=regression", "monotone_constraints=1,0"]))
        } throws: {
            "\($0)".contains("2 directions for 3 features")
        }
        #expect {
            try Booster.train(data, params: Fixture.params(["objective=l1", "monotone_constraints=1,0,0"]))
        } throws: { "\($0)".contains("do not combine") }
        #expect(throws: TrainingParams.ParseError.self) { try TrainingParams().with(["monotone_constraints=2,0,0"]) }
        #expect(Fixture.params(["monotonic_cst=(1,-1,0)"]).monotoneConstraints == [1, -1, 0])
    }

    @Test func boundsSplitAtTheMidpoint() {
        let (l, r) = OutputBounds.free.children(direction: 1, left: -1, right: 3)
        #expect(l == OutputBounds(lower: -.infinity, upper: 1) && r == OutputBounds(lower: 1, upper: .infinity))
        let (l2, r2) = r.children(direction: -1, left: 4, right: 2)
        #expect(l2 == OutputBounds(lower: 3, upper: .infinity) && r2 == OutputBounds(lower: 1, upper: 3))
        #expect(OutputBounds(lower: 0, upper: 1).clamp(5) == 1)
    }
}

extension TrainingParams {
    func with(_ settings: [String]) throws -> TrainingParams {
        var p = self
        try p.apply(settings)
        return p
    }
}
