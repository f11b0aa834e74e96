import FeatureCore
import FsmlCore
import OfflineStorage

/// Lines as the stream and `fsml ingest` take them: parse, clock guard, admission, fold, then
/// every state through the codec and every feature read. No line is lost: each one is admitted,
/// late, a duplicate or a dead letter, and states written decode to the same state.
enum EventLinesTarget {
    static let target = FuzzTarget(
        name: "event-lines", summary: "event lines through the intake, the engine and the state codec", run: run)

    private struct Folding: IntakeSink {
        let table: StateTable
        var latest = Micros.min

        mutating func admitted(_ event: StoredEvent) {
            table.fold(event.event)
            latest = max(latest, event.event.time)
        }
        func late(_ event: Event, watermark: Micros, raw: UnsafeRawBufferPointer, origin: Origin) {}
        func deadLetter(reason: String, raw: UnsafeRawBufferPointer, origin: Origin) {
            mustHold(!reason.isEmpty, "a dead letter without a reason")
        }
    }

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let registry = FuzzedProject.registry
        let engine = FuzzedProject.engine
        var schema = registry.schema
        // A small limit so that cut lines are reached by short inputs too.
        schema.maxLineBytes = 256
        var intake = Intake(schema: schema, lateness: registry.allowedLateness, jumps: registry.clockJumps)
        var sink = Folding(table: StateTable(engine: engine))
        var start = 0
        var number = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            number += 1
            let kept = min(end - start, schema.maxLineBytes)
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<start + kept])
            try? intake.take(line, length: end - start, origin: Origin(source: "fuzz", line: number), into: &sink)
            start = end + 1
        }
        try? intake.finish(into: &sink)
        let c = intake.counts
        mustHold(c.lines == number, "\(number) lines given, \(c.lines) counted")
        mustHold(
            c.lines == c.admitted + c.late + c.duplicates + c.deadLetters && c.waiting == 0,
            "lines lost: \(c)")
        let asOf = sink.latest == .min ? 0 : sink.latest
        for (e, table) in sink.table.tables.enumerated() {
            for state in table.values {
                StateTarget.checkRoundTrip(state, entity: e, asOf: asOf)
            }
        }
    }
}
