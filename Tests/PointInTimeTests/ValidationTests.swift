import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import Testing

@testable import PointInTime

@Suite struct ValidationTests {
    static func expectations() -> Expectations {
        var e = Expectations()
        e.columns = [
            .init(name: "id", maxNullRate: 0, unique: true), .init(name: "price", min: 0, max: 100),
            .init(name: "kind", values: ["a", "b"]), .init(name: "country", maxNullRate: 0.25),
        ]
        e.maxInvalidRate = 0.1
        e.freshness = 60_000_000
        return e
    }

    @Test func countsEachExpectationByHand() {
        var p = ColumnProfiler(expectations: Self.expectations())
        let rows: [(String?, Double?, String?, String?)] = [
            ("1", 5, "a", "FR"), ("2", -1, "b", nil), ("2", 150, "c", "DE"), ("3", 50, "a", nil),
        ]
        for (id, price, kind, country) in rows {
            p.startRow()
            p.add(0, number: nil, text: id)
            p.add(1, number: price, text: nil)
            p.add(2, number: nil, text: kind)
            p.add(3, number: nil, text: country)
        }
        p.invalid = 1
        p.newest = 1_000_000
        let r = Dictionary(
            uniqueKeysWithValues: p.results(asOf: 30_000_000, lines: 5).map { ("\($0.column) \($0.check)", $0) })
        #expect(r["(events) schema"]!.passed == false)  // 1 of 5 lines: 20 % > 10 %
        #expect(r["(events) freshness"]!.passed == true)  // 29 s old ≤ 60 s
        #expect(r["id null rate"]!.passed && !r["id unique"]!.passed && r["id unique"]!.observed == "1 repeats")
        #expect(!r["price range"]!.passed && r["price range"]!.observed == "[-1.0, 150.0]; 1 below, 1 above")
        #expect(!r["kind allowed values"]!.passed && r["kind allowed values"]!.observed == "1 others")
        #expect(!r["country null rate"]!.passed)  // 2 of 4 = 50 % > 25 %
    }

    @Test func psiAndKSByHand() {
        let a = (0..<1000).map { Double($0) }
        #expect(Skew.psi(a, a) < 1e-12 && Skew.ks(a, a) == 0)
        let shifted = a.map { $0 + 500 }
        // Half of the shifted values lie beyond every training value: KS is exactly 0.5.
        #expect(abs(Skew.ks(a, shifted.sorted()) - 0.5) < 1e-12)
        #expect(Skew.psi(a, shifted) > 1)
        let r = Skew.compare(feature: "f", train: [1, .nan, 2, 3], served: [.nan, .nan, 2, 3])
        #expect(r.trainMissingRate == 0.25 && r.servedMissingRate == 0.5)
    }

    /// A feature present in training and never served (a lost view) is flagged, with a finite PSI
    /// that counts the missing values: never "ok" with PSI nan.
    @Test func aFeatureMissingWhenServedIsFlagged() {
        let train = (0..<1000).map { $0 % 6 == 0 ? Double.nan : Double($0) }
        let r = Skew.compare(feature: "sess_duration_s", train: train, served: Array(repeating: .nan, count: 300))
        #expect(r.servedMissingRate == 1 && abs(r.trainMissingRate - 167.0 / 1000) < 1e-12)
        #expect(r.ks.isNaN)
        // By hand: the missing bin, 0.167 → 1, adds (1 − 0.167) ln(1 / 0.167); each of the ten
        // decile bins, 0.0833 → ε, adds (ε − 0.0833) ln(ε / 0.0833).
        let decile = (1 - 0.167) / 10
        let expected = (1 - 0.167) * log(1 / 0.167) + 10 * (1e-4 - decile) * log(1e-4 / decile)
        #expect(abs(r.psi - expected) < 0.01 * expected)
        let reasons = r.reasons(SkewLimits())
        #expect(reasons.count == 2)
        #expect(reasons.contains("missing 16.7 % in training, 100.0 % served"))
        // The same rates on both sides and the same values: nothing to flag.
        let same = Skew.compare(feature: "f", train: train, served: train)
        #expect(same.psi < 1e-12 && same.reasons(SkewLimits()).isEmpty)
        // A missing rate that moves by more than the limit is flagged even when the values agree.
        let moreMissing = Skew.compare(
            feature: "f", train: train, served: (0..<1000).map { $0 % 3 == 0 ? Double.nan : Double($0) })
        #expect(moreMissing.reasons(SkewLimits(psi: 10)).count == 1)
    }

    @Test func aBadExpectationNamesFileLineAndKey() {
        let yaml = ReferenceProject.yaml.replacingOccurrences(of: "max_invalid_rate: 0.01", with: "max_invalid_rate: 3")
        #expect {
            _ = try RegistryLoader.parse(yaml, file: "fsml.yaml")
        } throws: { "\($0)".contains("fsml.yaml:") && "\($0)".contains("expectations.max_invalid_rate") }
        let registry = try? RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml")
        #expect(
            registry?.expectations.columns.map(\.name) == ["event_id", "user_id", "price", "event_type", "geo.country"])
    }
}
