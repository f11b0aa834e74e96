import Foundation
import FsmlCore
import Testing

@testable import PointInTime

/// A parity report as JSON and as a page: the verdict against the threshold, the feature that
/// differs charted, examples quoted.
@Suite struct ParityReportOutputTests {
    static func report(mismatches: Int) -> ParityReport {
        var a = ParityFeature(name: "user_views_5m", entity: "user")
        (a.compared, a.mismatches, a.maxAbsDiff) = (200, mismatches, mismatches > 0 ? 2 : 0)
        if mismatches > 0 { a.examples = [(key: "u1", online: 3, offline: 1)] }
        var b = ParityFeature(name: "prod_ctr_24h", entity: "product")
        b.compared = 100
        return ParityReport(
            asOf: 1_700_000_000_000_000, sampled: [("user", 200, 500), ("product", 100, 100)], features: [a, b],
            eventsReplayed: 9_000)
    }

    static func object(_ v: JSONValue) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(JSONText.render(v).utf8)) as? [String: Any])
    }

    @Test func equalValuesPass() throws {
        let r = Self.report(mismatches: 0)
        let json = try Self.object(r.json(threshold: 0.005, store: "redis://x", seconds: 1.5))
        #expect(json["passed"] as? Bool == true && json["compared"] as? Int == 300 && json["mismatches"] as? Int == 0)
        #expect(r.html(threshold: 0.005, store: "redis://x").contains("Every one of the 300 values compared is equal"))
    }

    @Test func aRateAtTheThresholdFailsAndIsCharted() throws {
        let r = Self.report(mismatches: 1)  // 0.5 % of the user feature's values
        let json = try Self.object(r.json(threshold: 0.005, store: "redis://x", seconds: 1.5))
        #expect(json["passed"] as? Bool == false)
        let features = try #require(json["features"] as? [[String: Any]])
        #expect(features[0]["mismatch_rate"] as? Double == 0.005)
        #expect((features[0]["examples"] as? [[String: Any]])?.first?["key"] as? String == "u1")
        #expect(try Self.object(r.json(threshold: 0.01, store: "redis://x", seconds: 1))["passed"] as? Bool == true)
        let html = r.html(threshold: 0.005, store: "redis://x")
        #expect(html.contains("1 of 2 features differ; the worst, user_views_5m, in 0.500 %"))
        #expect(html.contains("<svg") && html.contains("FAILED"))
    }
}
