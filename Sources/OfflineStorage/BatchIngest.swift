import FeatureCore
import FsmlCore

/// Loads a file of event lines into the offline store in one go, through the same intake as the
/// stream job, carrying on from the store's `_state.json` and leaving it for the next writer.
public struct BatchIngest {
    public struct Result: Sendable {
        /// What this ingest did (not the store's totals).
        public var counts: IntakeCounts
        public var filesWritten: Int
    }

    public let registry: FeatureRegistry
    public let store: OfflineStore

    public init(registry: FeatureRegistry, store: OfflineStore) {
        self.registry = registry
        self.store = store
    }

    /// Reads `path` (JSON lines, gzip or not; "-" for stdin) to its end. `source` names it in the
    /// reject logs.
    public func run(path: String, source: String, progress: Progress? = nil) throws -> Result {
        let previous = try IntakeState.load(path: store.statePath)
        if previous == nil, try !store.files().isEmpty {
            throw StateFileError(
                description:
                    "\(store.root) holds events but no _state.json; ingest into an empty store or restore its state")
        }
        // Files from after the last commit of a crashed writer would be counted twice: drop them.
        try store.removeUncommitted(from: previous?.nextSequence)
        var intake = Intake(
            schema: registry.schema, lateness: registry.allowedLateness, jumps: registry.clockJumps, state: previous)
        if previous == nil {
            // A store that holds files always holds a state, so that a crash is told from a foreign store.
            try intake.state.save(to: store.statePath)
        }
        let before = intake.counts
        let runName = "ingest-\(Timestamp.format(wallClockMicros()).replacingOccurrences(of: ":", with: ""))"
        let reader = try LineReader(path: path, maxLineBytes: registry.schema.maxLineBytes)
        var sink = Sink(
            schema: registry.schema,
            writer: OfflineStoreWriter(store: store, schema: registry.schema, background: true),
            deadLetters: RejectLog(directory: store.deadLetterDirectory, name: runName),
            late: RejectLog(directory: store.lateDirectory, name: runName))
        while let line = try reader.next() {
            try intake.take(
                line, length: reader.lastLineLength, origin: Origin(source: source, line: reader.linesRead), into: &sink
            )
            if reader.linesRead % 100_000 == 0 { progress?.update(reader.linesRead) }
        }
        try intake.finish(into: &sink)
        try sink.writer.commit()
        try sink.deadLetters.close()
        try sink.late.close()
        try intake.state.save(to: store.statePath)
        progress?.finish(reader.linesRead)
        return Result(counts: intake.counts.minus(before), filesWritten: sink.writer.filesWritten.count)
    }

    struct Sink: IntakeSink {
        let schema: EventSchema
        let writer: OfflineStoreWriter
        let deadLetters: RejectLog
        let late: RejectLog

        func admitted(_ event: StoredEvent) throws { try writer.append(event) }

        func late(_ event: Event, watermark: Micros, raw: UnsafeRawBufferPointer, origin: Origin) throws {
            try late.late(
                event: event, schema: schema, watermark: watermark, raw: raw, source: origin.source, line: origin.line)
        }

        func deadLetter(reason: String, raw: UnsafeRawBufferPointer, origin: Origin) throws {
            try deadLetters.deadLetter(reason: reason, raw: raw, source: origin.source, line: origin.line)
        }
    }
}
