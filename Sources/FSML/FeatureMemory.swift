import FeatureCore
import FsmlCore
import OfflineStorage
import Synchronization

/// Entity states held in this process, folded from events as `fsml stream` folds them: each line
/// is parsed and checked against the schema, held back when it jumps the clock, admitted by the
/// project's lateness rule and its duplicates dropped, then folded into every entity it names.
/// Features are read as of any time. Safe to use from several threads (one lock).
public final class FeatureMemory: Sendable {
    /// What became of an ingested line.
    public enum Outcome: Sendable, Hashable {
        /// Folded (with any earlier lines its arrival released).
        case admitted
        /// Older than the clock less the allowed lateness: logged by the stream job, not folded.
        case late
        /// A duplicate of an admitted event (the same event id).
        case duplicate
        /// Dated too far ahead of the clock: held until other events confirm the jump.
        case waiting
        /// Not an event of the schema; the reason says why.
        case rejected(String)
    }

    let registry: FeatureRegistry
    let engine: FeatureEngine
    private let state: Mutex<Folding>

    private struct Folding: ~Copyable {
        var intake: Intake
        let states: StateTable
    }

    init(registry: FeatureRegistry) {
        self.registry = registry
        engine = FeatureEngine(registry: registry)
        state = Mutex(
            Folding(
                intake: Intake(schema: registry.schema, lateness: registry.allowedLateness, jumps: registry.clockJumps),
                states: StateTable(engine: engine)))
    }

    /// Parses, admits and folds one event line (JSON, as the stream job reads it).
    @discardableResult
    public func ingest(_ line: String) -> Outcome {
        let bytes = Array(line.utf8)
        return state.withLock { folding in
            var sink = FoldingSink(states: folding.states, line: bytes)
            let before = folding.intake.counts
            do {
                try bytes.withUnsafeBytes {
                    try folding.intake.take($0, origin: Origin(source: "memory", line: 0), into: &sink)
                }
            } catch {
                return .rejected("\(error)")
            }
            let counts = folding.intake.counts
            if let reason = sink.rejected { return .rejected(reason) }
            if counts.late > before.late { return .late }
            if counts.duplicates > before.duplicates { return .duplicate }
            return counts.waiting > before.waiting ? .waiting : .admitted
        }
    }

    /// The end of the input: lines still held for a clock jump are admitted when the clock has
    /// caught up with them, and rejected otherwise (what `fsml stream --until-end` does at the end).
    public func finish() {
        state.withLock { folding in
            var sink = FoldingSink(states: folding.states, line: [])
            try? folding.intake.finish(into: &sink)
        }
    }

    /// Lines taken so far: admitted, late, duplicate, rejected and still waiting.
    public var counts: IntakeCounts { state.withLock { $0.intake.counts } }

    /// The latest event time admitted: what "now" is for reads that name no time.
    public var clock: Micros? {
        state.withLock { folding in
            let clock = folding.intake.admission.clock
            return clock == .min ? nil : clock
        }
    }

    /// The features (`names`, or every served feature) for the entities a request names, as of
    /// `asOf` (default: the clock). `request` gives the entity keys and the fields that derived
    /// features read, by name.
    public func features(
        _ request: [String: FieldValue], names: [String]? = nil, asOf: Micros? = nil
    ) throws
        -> FeatureVector
    {
        let features = try featureIndexes(names, registry: registry)
        let event = requestEvent(request, schema: registry.schema)
        return state.withLock { folding in
            let t = asOf ?? (folding.intake.admission.clock == .min ? 0 : folding.intake.admission.clock)
            let states = engine.entities.indices.map { e in
                engine.entities[e].keyMaker.key(event).flatMap { folding.states.state(entity: e, key: $0) }
            }
            return FeatureVector(
                names: features.map { registry.features[$0].name },
                values: features.map { f in
                    engine.value(feature: f, states: states, fields: { event.values[$0] }, asOf: t)
                })
        }
    }
}

/// Folds what the intake admits; keeps the reason `line` is rejected for (not that of a held line
/// its arrival rejects).
private struct FoldingSink: IntakeSink {
    let states: StateTable
    let line: [UInt8]
    var rejected: String?

    mutating func admitted(_ event: StoredEvent) throws { states.fold(event.event) }
    mutating func late(_ event: Event, watermark: Micros, raw: UnsafeRawBufferPointer, origin: Origin) throws {}
    mutating func deadLetter(reason: String, raw: UnsafeRawBufferPointer, origin: Origin) throws {
        if rejected == nil && raw.elementsEqual(line) { rejected = reason }
    }
}
