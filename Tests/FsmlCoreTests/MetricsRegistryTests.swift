import Foundation
import Testing

@testable import FsmlCore

@Suite struct MetricsRegistryTests {
    @Test func histogramsFollowTheExpositionRules() {
        let m = MetricsRegistry()
        for x in [0.00005, 0.0003, 0.0003, 0.002, 0.7, 3.0] { m.observe("fsml_x_seconds", x, help: "X.") }
        let text = m.render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "# HELP fsml_x_seconds X.")
        #expect(lines[1] == "# TYPE fsml_x_seconds histogram")
        let buckets = lines.filter { $0.hasPrefix("fsml_x_seconds_bucket") }
        #expect(buckets.count == MetricsRegistry.latencyBuckets.count + 1)
        // Cumulative, in increasing le order, ending with +Inf equal to _count.
        let counts = buckets.map { Int($0.split(separator: " ").last!)! }
        #expect(counts == [1, 1, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 6])
        #expect(buckets.first == "fsml_x_seconds_bucket{le=\"0.0001\"} 1")
        #expect(buckets.last == "fsml_x_seconds_bucket{le=\"+Inf\"} 6")
        #expect(lines.contains("fsml_x_seconds_count 6"))
        let sum = Double(lines.first { $0.hasPrefix("fsml_x_seconds_sum") }!.split(separator: " ")[1])!
        #expect(abs(sum - 3.70265) < 1e-9)
        #expect(text.hasSuffix("\n"))
    }

    @Test func manyObservationsAtOnceEqualOneByOne() {
        let a = MetricsRegistry()
        let b = MetricsRegistry()
        let values = (0..<500).map { Double($0) * 0.0007 }
        for v in values { a.observe("h_seconds", v, labels: [("job", "j")]) }
        b.observe("h_seconds", values, labels: [("job", "j")])
        #expect(a.render() == b.render())
    }

    @Test func countersGaugesAndLabelEscaping() {
        let m = MetricsRegistry()
        m.add("fsml_events_total", 2, help: "Events.", labels: [("job", "a\"b\\c\nd")])
        m.add("fsml_events_total", 3, labels: [("job", "a\"b\\c\nd")])
        m.set("fsml_lag_seconds", 1.5)
        m.set("fsml_lag_seconds", 0.25)
        let text = m.render()
        #expect(text.contains("# TYPE fsml_events_total counter\nfsml_events_total{job=\"a\\\"b\\\\c\\nd\"} 5\n"))
        #expect(text.contains("# TYPE fsml_lag_seconds gauge\nfsml_lag_seconds 0.25\n"))
        #expect(m.value("fsml_events_total", labels: [("job", "a\"b\\c\nd")]) == 5)
    }
}

@Suite struct LatencySampleTests {
    @Test func quantilesAreExactWhileTheSampleHoldsEverything() {
        var s = LatencySample(capacity: 1000)
        for x in (1...100).reversed() { s.add(Double(x)) }
        #expect(s.quantile(0.5) == 50)
        #expect(s.quantile(0.99) == 99)
        #expect(s.quantile(1) == 100)
        #expect(s.quantile(0) == 1)
        #expect(s.maximum == 100 && s.count == 100)
        #expect(LatencySample().quantile(0.5) == nil)
    }

    @Test func aFullReservoirStaysUniform() {
        var s = LatencySample(capacity: 2000)
        for x in 0..<200_000 { s.add(Double(x)) }
        #expect(s.values.count == 2000 && s.count == 200_000)
        let median = s.quantile(0.5)!
        // A uniform sample of 2000 puts the median within a few percent of the true one.
        #expect(abs(median - 100_000) < 8_000)
        #expect(s.maximum == 199_999)
    }
}
