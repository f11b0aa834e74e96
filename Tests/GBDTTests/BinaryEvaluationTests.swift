import Testing

@testable import GBDT

@Suite struct BinaryEvaluationTests {
    /// Ten rows worked by hand.
    static let p: [Double] = [0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05]
    static let y: [Float] = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]

    @Test func brierCalibrationAndTopKByHand() {
        let e = BinaryEvaluation.evaluate(predictions: Self.p, labels: Self.y, bins: 2)
        #expect(e.rows == 10 && e.positives == 4)
        // Brier: mean of (p - y)^2.
        let brier = zip(Self.p, Self.y).map { ($0 - Double($1)) * ($0 - Double($1)) }.reduce(0, +) / 10
        #expect(abs(e.brier - brier) < 1e-12)
        // Two bins: [0, 0.5) holds 0.45…0.05 with one positive; [0.5, 1) holds 0.95…0.55 with three.
        #expect(e.reliability.map(\.count) == [5, 5])
        #expect(abs(e.reliability[0].meanPredicted - 0.25) < 1e-12 && e.reliability[0].observedRate == 0.2)
        #expect(abs(e.reliability[1].meanPredicted - 0.75) < 1e-12 && e.reliability[1].observedRate == 0.6)
        #expect(abs(e.ece - (0.5 * 0.05 + 0.5 * 0.15)) < 1e-12)
        // AUC: 24 positive/negative pairs, 4 misordered (0.65 < 0.75; 0.35 < 0.45, 0.55, 0.75).
        #expect(abs(e.auc - (1 - 4.0 / 24)) < 1e-12)
        #expect(e.roc.first == CurvePoint(x: 0, y: 0) && e.roc.last == CurvePoint(x: 1, y: 1))
        #expect(e.topK.isEmpty)  // fewer than 100 rows and 1 % of 10 rows is 0
    }

    @Test func precisionAndLiftAtK() {
        // 1000 rows, the top 100 scores hold 60 positives, the base rate is 0.2.
        var p: [Double] = []
        var y: [Float] = []
        for i in 0..<1000 {
            p.append(1 - Double(i) / 1000)
            y.append(i < 100 ? (i % 5 < 3 ? 1 : 0) : (i % 9 == 0 ? 1 : 0))
        }
        let positives = y.filter { $0 > 0 }.count
        let e = BinaryEvaluation.evaluate(predictions: p, labels: y)
        let at100 = e.topK.first { $0.label == "100" }!
        #expect(at100.precision == 0.6)
        #expect(abs(at100.lift - 0.6 / (Double(positives) / 1000)) < 1e-12)
        #expect(e.topK.first { $0.label == "1pct" }!.k == 10)
    }

    @Test func segmentsAreTheMostFrequentValuesWithEnoughRows() {
        let p = (0..<300).map { Double($0 % 10) / 10 }
        let y: [Float] = (0..<300).map { $0 % 10 >= 5 ? 1 : 0 }
        let s: [String?] = (0..<300).map { $0 < 200 ? "ios" : ($0 < 290 ? nil : "rare") }
        let r = SegmentEvaluation.evaluate(predictions: p, labels: y, segments: s)
        #expect(r.map(\.value) == ["ios", "(missing)"])
        #expect(r[0].rows == 200 && r[0].auc == 1)
    }
}
