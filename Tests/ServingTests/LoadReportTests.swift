import Foundation
import FsmlCore
import Histogram
import Testing

@testable import Serving

@Suite struct LoadReportTests {
    @Test func percentileLabelsReadAsNines() {
        #expect(LoadReport.percentileLabel(0) == "p0")
        #expect(LoadReport.percentileLabel(1) == "p90")
        #expect(LoadReport.percentileLabel(2) == "p99")
        #expect(LoadReport.percentileLabel(3) == "p99.9")
        #expect(LoadReport.percentileLabel(-1) == "")
    }

    @Test func theReportCarriesTheRunsNumbers() throws {
        var h = Histogram<UInt64>(highestTrackableValue: 10_000_000, numberOfSignificantValueDigits: .three)
        for us in 1...100 { _ = h.record(UInt64(us * 1000)) }
        let result = LoadGenerator.Result(
            histogram: h, errors: ["timeout": 2], sent: 102, seconds: 2, statusCounts: [200: 100])
        let report = LoadReport(
            url: "http://127.0.0.1:1", endpoint: "predict", targetRate: 51, connections: 4, result: result,
            maxRate: nil)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONText.render(report.json).utf8)) as? [String: Any])
        #expect(json["achieved_rps"] as? Double == 50)
        #expect(abs((json["p50_ms"] as? Double ?? 0) - 50) < 0.1)  // three significant digits
        #expect(json["errors"] as? [String: Int] == ["timeout": 2])
        #expect(json["max_rps_within_p95_limit"] == nil)
        #expect(report.errorCount == 2)
        #expect(report.html.contains("<svg") && report.html.contains("2 errors"))
        // A run passes the search's test only when it kept up, met the limit and had few errors.
        #expect(!LoadSearch.passes(result, rate: 51, p95LimitMillis: 200))  // 2 % errors
        let clean = LoadGenerator.Result(histogram: h, errors: [:], sent: 100, seconds: 2, statusCounts: [200: 100])
        #expect(LoadSearch.passes(clean, rate: 51, p95LimitMillis: 200))
        #expect(!LoadSearch.passes(clean, rate: 51, p95LimitMillis: 50))
        #expect(!LoadSearch.passes(clean, rate: 100, p95LimitMillis: 200))
    }
}
