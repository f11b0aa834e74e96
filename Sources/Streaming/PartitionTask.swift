import FeatureCore
import FsmlCore
import OfflineStorage

/// One partition's share of a consumer-group member's work, and everything its shard holds: its
/// own intake, the entity states folded from its events, its offline store and reject logs, and
/// its next offset.
///
/// The intake is the partition's alone, so that its decisions (late, duplicate, a clock jump,
/// when an event became known) depend only on its events in offset order: they are the same
/// whichever member reads them and however the member interleaves its partitions, which is what
/// makes a handover exact. The cost: the watermark is the partition's own clock minus the
/// allowed lateness, and duplicates are found within a partition (a resent event carries its key,
/// so it lands in the same one).
final class PartitionTask {
    let partition: Int32
    private(set) var intake: Intake
    let states: StateTable
    private(set) var encoded: EncodedStates
    let offlineStore: OfflineStore?
    private let offline: OfflineStoreWriter?
    private let deadLetters: RejectLog
    private let lateLog: RejectLog
    /// The offset of the next message to fold.
    private(set) var nextOffset: Int64
    /// The counts when this member took the partition over.
    let countsAtStart: IntakeCounts
    /// Lines taken when the shard was last written (or restored).
    private var linesAtShard = 0
    /// Whether lines came since the shard was written: if not, the shard on disk is current.
    var hasNewLines: Bool { intake.counts.lines != linesAtShard }
    private var unfolded: [Event] = []
    private let origin: String
    /// The intake's schema, for the late log: read while the intake is busy taking a line.
    private let schema: EventSchema
    /// This member's hold on the partition: what it publishes for it, it publishes under the lease.
    private let lease: PartitionLease

    /// Where the task's files go, and what a shard must match to be restored.
    struct Context {
        let registry: FeatureRegistry
        let engine: FeatureEngine
        let entityKinds: [Int]?
        let layout: ShardLayout
        /// The offline store base (one store per partition under it), or nil.
        let offlineBase: String?
        let rejectBase: String
        let brokers: String
        /// The member: the holder its leases name.
        let owner: String
    }

    /// Takes the partition's lease, then restores the partition from its shard, or starts it empty
    /// at offset 0 when it has none.
    init(partition: Int32, context c: Context) throws {
        self.partition = partition
        let lease = try PartitionLease.acquire(
            path: c.layout.leasePath(partition: partition), partition: partition, owner: c.owner)
        self.lease = lease
        let engine = c.engine
        states = StateTable(engine: engine, entityKinds: c.entityKinds, tracksChanges: true)
        encoded = EncodedStates(entityCount: engine.entities.count)
        offlineStore = c.offlineBase.map {
            OfflineStore(root: ShardLayout.partitionDirectory(base: $0, partition: partition))
        }
        offline = offlineStore.map {
            let writer = OfflineStoreWriter(store: $0, schema: c.registry.schema, background: true)
            writer.publishGate = { move in try lease.publish(move) }
            return writer
        }
        let rejects = ShardLayout.partitionDirectory(base: c.rejectBase, partition: partition)
        deadLetters = RejectLog(
            directory: offlineStore?.deadLetterDirectory ?? "\(rejects)/dead_letters", name: "stream")
        lateLog = RejectLog(directory: offlineStore?.lateDirectory ?? "\(rejects)/late", name: "stream")
        schema = c.registry.schema
        origin = "kafka://\(c.brokers)/\(c.layout.topic)/\(partition)"
        let path = c.layout.shardPath(partition: partition)
        let r = c.registry
        if FileSystem.exists(path) {
            let shard = try Checkpoint.decode(try FileSystem.readBytes(path), file: path)
            try Self.check(shard, path: path, partition: partition, context: c, kinds: states.entityKinds)
            intake = Intake(schema: r.schema, lateness: r.allowedLateness, jumps: r.clockJumps, state: shard.intake)
            nextOffset = ShardPosition(shard.position)!.offset
            if let offlineStore {
                // What a member wrote after this shard, before it died, is written again by the replay.
                try offlineStore.removeUncommitted(from: shard.intake.nextSequence)
                try shard.intake.save(to: offlineStore.statePath)
            }
            try deadLetters.truncate(to: shard.deadLetterBytes)
            try lateLog.truncate(to: shard.lateBytes)
            for s in shard.states {
                let state = try StateCodec.decode(s.blob, engine: engine, entity: s.entity)
                encoded.set(
                    entity: s.entity, id: states.setState(state, entity: s.entity, key: s.key), key: s.key, s.blob)
            }
            _ = states.takeChanges()
        } else {
            if let offlineStore, try !offlineStore.files().isEmpty {
                throw StreamError(
                    "\(offlineStore.root) holds events but \(path) is missing: restore the shard or empty the store")
            }
            intake = Intake(schema: r.schema, lateness: r.allowedLateness, jumps: r.clockJumps)
            nextOffset = 0
        }
        countsAtStart = intake.counts
        linesAtShard = intake.counts.lines
    }

    private static func check(
        _ shard: Checkpoint, path: String, partition: Int32, context c: Context, kinds: [Int]
    ) throws {
        guard shard.fingerprints == c.engine.entities.map(\.fingerprint) else {
            throw StreamError(
                "\(path) was written under other feature definitions; remove the shard directory to start over")
        }
        let position = ShardPosition(shard.position)
        guard shard.source == c.layout.sourceName, position?.topic == c.layout.topic, position?.partition == partition
        else {
            throw StreamError(
                "\(path) is not the shard of partition \(partition) of \(c.layout.topic) (\(shard.source))")
        }
        guard shard.entityKinds == kinds else {
            throw StreamError("\(path) folds other entity kinds; every member of a group must fold the same --entities")
        }
    }

    var clock: Micros { intake.admission.clock }
    var counts: IntakeCounts { intake.counts }

    /// Takes the message at `offset`: parse, admit, fold (a batch at a time), archive.
    func take(_ bytes: UnsafeRawBufferPointer, length: Int, offset: Int64) throws {
        var sink = self
        try intake.take(
            bytes, length: length, partition: nil, origin: Origin(source: self.origin, line: Int(offset)), into: &sink)
        nextOffset = offset + 1
    }

    private func foldAdmitted() {
        guard !unfolded.isEmpty else { return }
        states.fold(unfolded)
        unfolded.removeAll(keepingCapacity: true)
    }

    /// The states changed since the last call, encoded for the online store (and kept for the shard).
    func takeChanges() -> [StateRecord] {
        foldAdmitted()
        var records: [StateRecord] = []
        for (e, changed) in states.takeChangedStates().enumerated() {
            for (id, key, state) in changed {
                let blob = StateCodec.encode(state, engine: states.engine, entity: e)
                encoded.set(entity: e, id: id, key: key, blob)
                records.append(StateRecord(entity: e, key: key, lastTime: state.lastTime, blob: blob))
            }
        }
        return records
    }

    /// Every state the partition holds, for a store that lost them.
    func allRecords() -> [StateRecord] {
        foldAdmitted()
        var records: [StateRecord] = []
        for e in states.entityKinds {
            states.forEach(entity: e) { key, state in
                records.append(
                    StateRecord(
                        entity: e, key: key, lastTime: state.lastTime,
                        blob: StateCodec.encode(state, engine: states.engine, entity: e)))
            }
        }
        return records
    }

    /// Writes the shard. Call only after the online store holds `takeChanges()`'s records: the
    /// shard then records nothing the sinks do not hold. Returns the offset it recorded.
    func writeShard(layout: ShardLayout, owner: String) throws -> Int64 {
        foldAdmitted()
        _ = takeChanges()  // empty when the caller wrote them; kept for the shard either way
        try offline?.commit()
        try deadLetters.sync()
        try lateLog.sync()
        encoded.remove(states.evictExpired(watermark: intake.admission.watermark))
        let state = intake.state
        let shard = Checkpoint(
            runID: owner, source: layout.sourceName,
            position: ShardPosition(topic: layout.topic, partition: partition, offset: nextOffset).json,
            intake: state, deadLetterBytes: deadLetters.bytes, lateBytes: lateLog.bytes,
            fingerprints: states.engine.entities.map(\.fingerprint), entityKinds: states.entityKinds, states: [])
        try FileSystem.createDirectory(layout.topicDirectory)
        try lease.publish {
            try shard.write(states: encoded, to: layout.shardPath(partition: partition))
            if let offlineStore { try state.save(to: offlineStore.statePath) }
        }
        linesAtShard = state.counts.lines
        return nextOffset
    }
}

extension PartitionTask: IntakeSink {
    func admitted(_ stored: StoredEvent) throws {
        unfolded.append(stored.event)
        if unfolded.count == StateTable.batch { foldAdmitted() }
        try offline?.append(stored)
    }

    func late(_ event: Event, watermark: Micros, raw: UnsafeRawBufferPointer, origin: Origin) throws {
        try lateLog.late(
            event: event, schema: schema, watermark: watermark, raw: raw, source: origin.source,
            line: origin.line)
    }

    func deadLetter(reason: String, raw: UnsafeRawBufferPointer, origin: Origin) throws {
        try deadLetters.deadLetter(reason: reason, raw: raw, source: origin.source, line: origin.line)
    }
}
