import FsmlCore
import Testing

@testable import Tracking

/// The comparison as Markdown, JSON and a one-paragraph summary, on the runs of
/// `RunComparisonTests`: b and c tie on valid_auc, a has the lowest loss.
@Suite struct RunComparisonReportTests {
    static let c = RunComparison(runs: RunComparisonTests.runs)

    @Test func markdownBoldsTheBestAndEscapesBars() {
        let lines = Self.c.markdown.split(separator: "\n").map(String.init)
        #expect(lines[0] == "| | r-a (a) | r-b (b) | r-c (c) |")
        #expect(lines[1] == "|---|---:|---:|---:|")
        #expect(lines.contains("| valid_auc | 0.7000 | **0.7200** | **0.7200** |"))
        #expect(lines.contains("| valid_logloss | **0.4000** | 0.4200 | - |"))
        #expect(lines.contains("| trees | 50 | 90 | - |"))
        var piped = RunComparisonTests.runs
        piped[0].params["lr"] = "a|b"
        #expect(RunComparison(runs: piped).markdown.contains("| param `lr` | a\\|b | 0.05 | 0.05 |"))
    }

    @Test func theSummarySaysWhatDiffersAndWhoLeads() {
        #expect(Self.c.summary.hasPrefix("The runs differ in lr (0.1, 0.05, 0.05); seed (-, -, 3)."))
        #expect(Self.c.summary.hasSuffix("On valid_auc the best runs tie at 0.7200."))
        let json = JSONText.render(Self.c.json)
        #expect(json.contains("\"valid_logloss\""))
    }

    @Test func metricTextKeepsWholeNumbersWhole() {
        #expect(MetricText.format(50) == "50")
        #expect(MetricText.format(0.123456) == "0.1235")
        #expect(MetricText.format(nil) == "-" && MetricText.format(.nan) == "-")
        #expect(MetricText.signed(-0.02) == "−0.0200" && MetricText.signed(0.5) == "+0.5000")
    }
}
