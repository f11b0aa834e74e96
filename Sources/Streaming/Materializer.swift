import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage

/// Rebuilds an online store from the offline store: every admitted event, in the order the stream
/// admitted it, folded through the same engine (`StateTable`), and every resulting state written
/// with the stream's event-time-wins write. That is exactly what the stream job's own states
/// were, so the store ends up holding what the stream would have written, key for key: to fill a
/// new store (a cluster), or one that came back empty. (States past their TTL are written too, as
/// the stream wrote them before expiring them: reads treat them as missing by their last event
/// time.)
///
/// As of a time T: only the events known by T (their `knownAt`, the stream clock when they
/// arrived, at most T), so the store holds what the stream had written when its clock passed T.
public struct Materializer {
    public struct Report: Sendable, Equatable {
        public var events = 0
        /// States written, per entity kind.
        public var states: [Int] = []
        /// The clock written: the latest `knownAt` folded (nil when nothing was).
        public var clock: Micros?
        public var seconds = 0.0
    }

    public let registry: FeatureRegistry
    public var asOf: Micros?
    public var entityKinds: [Int]?
    /// States per write call (the stream's micro-batches are of this order).
    public var batchSize = 20_000

    public init(registry: FeatureRegistry, asOf: Micros? = nil, entityKinds: [Int]? = nil) {
        self.registry = registry
        self.asOf = asOf
        self.entityKinds = entityKinds
    }

    public func run(from offline: OfflineStore, to online: any OnlineStore) throws -> Report {
        let begin = monotonicNanos()
        let engine = FeatureEngine(registry: registry)
        let states = StateTable(engine: engine, entityKinds: entityKinds)
        // Only committed events: a running stream's files past its state are not settled yet
        // (a crash would undo them). The store is read, never changed. A consumer group's
        // offline data (`fsml stream --shards`) is a store per partition, each with its state.
        var committed: [Int64] = []
        for path in offline.statePaths {
            guard let next = try IntakeState.load(path: path)?.nextSequence else {
                if try offline.files().isEmpty { break }
                throw StreamError("\(path) is missing: nothing says which of the events beside it are committed")
            }
            committed.append(next)
        }
        let scanner = try OfflineStoreScanner(store: offline, schema: registry.schema, fields: engine.fieldsRead)
        var report = Report()
        var batch: [Event] = []
        let mask = (Int64(1) << OfflineStore.memberSequenceBits) - 1
        while let stored = try scanner.next() {
            let member = Int(stored.sequence >> OfflineStore.memberSequenceBits)
            if stored.sequence & mask >= committed[member] { continue }
            if let asOf, stored.knownAt > asOf { continue }
            batch.append(stored.event)
            if batch.count == StateTable.batch {
                states.fold(batch)
                batch.removeAll(keepingCapacity: true)
            }
            report.events += 1
            report.clock = max(report.clock ?? .min, stored.knownAt)
        }
        states.fold(batch)
        report.states = Array(repeating: 0, count: engine.entities.count)
        var records: [StateRecord] = []
        records.reserveCapacity(batchSize)
        for e in states.entityKinds {
            try states.forEach(entity: e) { key, state in
                records.append(
                    StateRecord(
                        entity: e, key: key, lastTime: state.lastTime,
                        blob: StateCodec.encode(state, engine: engine, entity: e)))
                report.states[e] += 1
                if records.count == batchSize {
                    try online.write(records)
                    records.removeAll(keepingCapacity: true)
                }
            }
        }
        try online.write(records)
        // A store's clock never moves back (a live stream may be ahead of an --as-of rebuild).
        if let clock = report.clock, try (online.readClock() ?? .min) < clock { try online.writeClock(clock) }
        report.seconds = Double(monotonicNanos() - begin) / 1e9
        return report
    }
}
