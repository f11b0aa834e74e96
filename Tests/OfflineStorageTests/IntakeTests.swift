import EventGenerator
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import Testing

/// The intake on real lines: a line dated far in the future cannot poison the clock, whatever its
/// place, and a saved intake state (checkpoint) carries waiting lines across a restart.
@Suite struct IntakeTests {
    static let registry = EventFactory.referenceRegistry()

    static func lines(seed: UInt64, events: Int) throws -> [[UInt8]] {
        var config = GeneratorConfig()
        config.events = events
        config.users = 100
        config.products = 40
        config.days = 2
        config.seed = seed
        config.lateFraction = 0.05
        config.duplicateFraction = 0.02
        var bytes: [UInt8] = []
        _ = try EventGenerator(config: config).run(gzip: false) { bytes.append(contentsOf: $0) }
        return bytes.split(separator: 10).map(Array.init)
    }

    /// A valid line whose event time is `time` (a copy of `line` with another id and time).
    static func redated(_ line: [UInt8], time: String, id: String) throws -> [UInt8] {
        var object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
        object["event_ts"] = time
        object["event_id"] = id
        return [UInt8](try JSONSerialization.data(withJSONObject: object))
    }

    static func run(_ lines: [[UInt8]], restartAt: Int? = nil) throws -> (CollectingSink, IntakeCounts) {
        var intake = Intake(schema: registry.schema, lateness: registry.allowedLateness)
        var sink = CollectingSink()
        for (i, line) in lines.enumerated() {
            if i == restartAt {
                // What a checkpoint keeps, through its JSON text, into a new intake.
                let saved = try IntakeState.parse(
                    try JSONParser.parse(Array(JSONText.render(intake.state.json()).utf8)), file: "state")
                intake = Intake(
                    schema: registry.schema, lateness: registry.allowedLateness, jumps: registry.clockJumps,
                    state: saved)
            }
            try line.withUnsafeBytes { try intake.take($0, origin: Origin(source: "f", line: i + 1), into: &sink) }
        }
        try intake.finish(into: &sink)
        return (sink, intake.counts)
    }

    @Test(arguments: [(0, "9999-12-31T23:59:59Z"), (9_000, "9999-12-31T23:59:59Z"), (12_345, "2025-02-20T00:00:00Z")])
    func aFutureLineIsADeadLetterAndChangesNothingElse(position: Int, time: String) throws {
        let clean = try Self.lines(seed: 7, events: 20_000)
        var poisoned = clean
        poisoned.insert(try Self.redated(clean[position], time: time, id: "from-the-future"), at: position)
        let (a, countsA) = try Self.run(clean)
        let (b, countsB) = try Self.run(poisoned)
        #expect(countsA.admitted > 19_000)
        #expect(b.admitted == a.admitted)
        #expect(countsB.lines == countsA.lines + 1 && countsB.deadLetters == countsA.deadLetters + 1)
        #expect(b.deadLetters.map(\.origin.line) == [position + 1])
        let reason = try #require(b.deadLetters.first?.reason)
        #expect(reason.hasPrefix("event time is "), "\(reason)")
        #expect(reason.contains(" ahead of the stream clock"), "\(reason)")
        if time.hasPrefix("9999") { #expect(reason.contains("7,975 years ahead")) }
    }

    @Test func waitingLinesSurviveARestartFromTheSavedState() throws {
        var lines = try Self.lines(seed: 8, events: 3_000)
        lines.insert(try Self.redated(lines[1_000], time: "9999-12-31T23:59:59Z", id: "future"), at: 1_000)
        lines.insert(try Self.redated(lines[2_999], time: "2025-06-01T00:00:00Z", id: "late-in-file"), at: 2_999)
        let (whole, countsWhole) = try Self.run(lines)
        // Restarts while the future line waits, and before the stream clock exists.
        for restart in [3, 1_020, 2_000] {
            let (resumed, counts) = try Self.run(lines, restartAt: restart)
            #expect(resumed.admitted == whole.admitted)
            #expect(resumed.deadLetters.map(\.origin) == whole.deadLetters.map(\.origin))
            #expect(counts == countsWhole)
        }
        // The one near the end waits past the end of the input: rejected then, with its reason.
        #expect(whole.deadLetters.map(\.origin.line) == [1_001, 3_000])
        #expect(whole.deadLetters.last!.reason.contains("by the end of the input"))
    }
}
