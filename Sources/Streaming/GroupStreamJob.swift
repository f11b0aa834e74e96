import FeatureCore
import FsmlCore
import OfflineStorage
import OnlineStorage

/// How a consumer-group member runs.
public struct GroupMemberOptions: Sendable {
    /// The member's name: its Kafka client id, and the owner its shards record.
    public var name: String
    /// The shard directory every member of the group shares.
    public var shardDirectory: String
    /// Where each partition's offline store goes (`<base>/partition-<p>`); nil for none.
    public var offlineBase: String?
    /// Where each partition's reject logs go when there is no offline store.
    public var rejectDirectory: String
    public var flushInterval = 0.02
    public var flushEvents = 50_000
    public var checkpointInterval = 5.0
    public var entityKinds: [Int]?
    /// Stop once every partition held is read to its end.
    public var untilEnd = false
    public var maxLines: Int?
    public var retry = RetryPolicy.standard
    /// librdkafka settings added to (or overriding) the consumer's, such as session.timeout.ms.
    public var kafkaProperties: [KafkaProperty] = []

    public struct KafkaProperty: Sendable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(name: String, shardDirectory: String, rejectDirectory: String) {
        self.name = name
        self.shardDirectory = shardDirectory
        self.rejectDirectory = rejectDirectory
    }
}

/// A stream job that is one member of a Kafka consumer group, whose partitions' states move with
/// the partitions. Each partition it holds is a `PartitionTask`; the group's rebalances call
/// `assign` (restore the shards) and `revoke` (write them) between two messages.
///
/// Exact through handovers: a shard is written only when the sinks hold everything up to it
/// (online states drained, offline files committed, reject logs synced), and a new owner
/// restores it, cuts the partition's offline store and reject logs back to it, and reads on from
/// its offset. Whatever the old owner did after its last shard (if it died) is done again, the
/// same way: the partition's decisions depend on its events alone, and the online store's
/// event-time-wins rule keeps a replayed older state from replacing a newer one.
public final class GroupStreamJob: PartitionHandover {
    public let registry: FeatureRegistry
    let engine: FeatureEngine
    public let layout: ShardLayout
    public let options: GroupMemberOptions
    private let writer: OnlineWriter?
    private var consumer: KafkaGroupConsumer?
    private var tasks: [Int32: PartitionTask] = [:]
    private let context: PartitionTask.Context
    /// When each newly assigned partition was assigned (monotonic ns), until its first event.
    private var awaitingFirst: [Int32: UInt64] = [:]
    public private(set) var report = GroupReport()
    /// Set when the run failed: a task may be half way through a line, so its shard must not be
    /// written; the partitions go as if lost, and their next owner replays from the last shard.
    private var failed = false
    /// Tests: after this many lines, write what is folded to the online store and fail, as a
    /// member that dies between two checkpoints.
    var crashAfterLines: Int?

    public init(
        registry: FeatureRegistry, address: KafkaAddress, online: (any OnlineStore)?, options: GroupMemberOptions,
        metrics: MetricsRegistry = MetricsRegistry()
    ) throws {
        self.registry = registry
        engine = FeatureEngine(registry: registry)
        layout = ShardLayout(directory: options.shardDirectory, topic: address.topic)
        self.options = options
        let labels = [("job", options.name)]
        writer = online.map {
            OnlineWriter(store: $0, job: options.name, policy: options.retry, metrics: metrics, labels: labels)
        }
        context = PartitionTask.Context(
            registry: registry, engine: engine, entityKinds: options.entityKinds, layout: layout,
            offlineBase: options.offlineBase, rejectBase: options.rejectDirectory, brokers: address.brokers,
            owner: options.name)
        consumer = try KafkaGroupConsumer(
            address: address, handover: self, clientID: options.name, maxLineBytes: registry.schema.maxLineBytes,
            properties: options.kafkaProperties.map { ($0.name, $0.value) })
    }

    deinit { writer?.stop() }

    /// The partitions this member holds now.
    public var held: Set<Int32> { Set(tasks.keys) }

    // MARK: - Handover

    public func assign(_ partitions: [Int32]) throws -> [Int32: Int64] {
        let begin = monotonicNanos()
        defer { report.restoreSeconds += Double(monotonicNanos() - begin) / 1e9 }
        var offsets: [Int32: Int64] = [:]
        for p in partitions {
            let task = try tasks[p] ?? PartitionTask(partition: p, context: context)
            if tasks[p] == nil, !FileSystem.exists(layout.shardPath(partition: p)) {
                // From its first shard on, whoever holds the partition next knows what to undo.
                _ = try task.writeShard(layout: layout, owner: options.name)
            }
            tasks[p] = task
            offsets[p] = task.nextOffset
            awaitingFirst[p] = begin
        }
        report.partitionsRestored += partitions.count
        report.rebalances += 1
        return offsets
    }

    public func revoke(_ partitions: [Int32]) throws {
        let begin = monotonicNanos()
        defer { report.handOverSeconds += Double(monotonicNanos() - begin) / 1e9 }
        guard !failed else { return lose(partitions) }
        report.rebalances += 1
        let mine = partitions.filter { tasks[$0] != nil }
        try checkpoint(mine)
        let now = wallClockMicros()
        for p in mine {
            release(p)
            report.handedOver.append((p, now))
        }
        report.partitionsHandedOver += mine.count
    }

    public func lose(_ partitions: [Int32]) {
        report.rebalances += 1
        let now = wallClockMicros()
        for p in partitions where tasks[p] != nil {
            release(p)
            report.partitionsLost += 1
            report.handedOver.append((p, now))
        }
    }

    /// Another member holds the partition now (this one stalled past its session): it goes as if
    /// lost, unwritten; the group tells this member so at its next poll.
    private func fence(_ fenced: PartitionFenced) {
        StandardError.line("kafka: \(fenced)")
        report.partitionsFenced += 1
        lose([fenced.partition])
    }

    private func release(_ p: Int32) {
        guard let task = tasks.removeValue(forKey: p) else { return }
        awaitingFirst[p] = nil
        report.counts = report.counts.plus(task.counts.minus(task.countsAtStart))
    }

    // MARK: - Running

    /// Runs until every partition held is at its end (`untilEnd`), `maxLines`, or SIGINT/SIGTERM;
    /// then writes every shard it holds and leaves the group.
    public func run() throws -> GroupReport {
        do {
            return try loop()
        } catch {
            failed = true
            throw error
        }
    }

    private func loop() throws -> GroupReport {
        guard let consumer else { throw StreamError("the member has left its group") }
        let started = monotonicNanos()
        let cpuAtStart = GroupReport.processCPUSeconds()
        let flushNanos = UInt64(options.flushInterval * 1e9)
        let checkpointNanos = UInt64(options.checkpointInterval * 1e9)
        var nextFlush = started + flushNanos
        var nextCheckpoint = started + checkpointNanos
        var lines = 0
        var unflushed = 0
        var sinceCheckpoint = 0
        while !StopSignal.isRaised {
            if let max = options.maxLines, lines >= max { break }
            let wait = unflushed == 0 ? 0.05 : Double(nextFlush &- min(nextFlush, monotonicNanos())) / 1e9
            if let m = try consumer.next(timeout: wait) {
                guard let task = tasks[m.partition] else { continue }
                // A message delivered again is folded already; one past a gap is reported.
                if m.offset < task.nextOffset { continue }
                if m.offset > task.nextOffset { skipped(task, to: m.offset) }
                if let since = awaitingFirst.removeValue(forKey: m.partition) {
                    report.maxFirstEventSeconds = max(
                        report.maxFirstEventSeconds, Double(monotonicNanos() - since) / 1e9)
                    report.firstEvents.append((m.partition, wallClockMicros()))
                }
                do {
                    try task.take(m.bytes, length: m.length, offset: m.offset)
                } catch let fenced as PartitionFenced {
                    fence(fenced)
                    continue
                }
                let wall = wallClockMicros()
                if report.firstLineAt == nil { report.firstLineAt = wall }
                report.lastLineAt = wall
                lines += 1
                if lines == crashAfterLines {
                    try flush(Array(tasks.keys))
                    try writer?.drain()
                    throw StreamError("crashed after \(lines) lines (a test)")
                }
                unflushed += 1
                sinceCheckpoint += 1
            } else if options.untilEnd && consumer.isAtEnd {
                break
            }
            let now = monotonicNanos()
            if unflushed > 0 && (unflushed >= options.flushEvents || now >= nextFlush) {
                try flush(Array(tasks.keys))
                unflushed = 0
                nextFlush = now + flushNanos
            }
            if now >= nextCheckpoint {
                if sinceCheckpoint > 0 { try checkpoint(Array(tasks.keys)) }
                sinceCheckpoint = 0
                nextCheckpoint = monotonicNanos() + checkpointNanos
            }
        }
        try checkpoint(Array(tasks.keys))
        // Leaving the group revokes what is held: `revoke` writes those shards (unchanged now).
        consumer.close()
        self.consumer = nil
        for p in Array(tasks.keys) { release(p) }
        report.seconds = Double(monotonicNanos() - started) / 1e9
        report.cpuSeconds = GroupReport.processCPUSeconds() - cpuAtStart
        return report
    }

    /// Messages between where the partition's shard left off and the first one fetched are gone
    /// (the topic's retention deleted them before anyone folded them): nothing can bring them back,
    /// but it must not pass silently. A partition without a shard starting at the log's start is
    /// the normal start of a group on a topic with retention.
    private func skipped(_ task: PartitionTask, to offset: Int64) {
        guard task.nextOffset > 0 || task.counts.lines > 0 else { return }
        report.skippedMessages += Int(max(0, offset - task.nextOffset))
        StandardError.line(
            "kafka: partition \(task.partition) of \(layout.topic) continues at offset \(offset), not \(task.nextOffset) where its shard left off: \(offset - task.nextOffset) messages were deleted before they were folded"
        )
    }

    /// Hands the changed states of `partitions` to the online writer.
    private func flush(_ partitions: [Int32]) throws {
        guard let writer else {
            // Without a store, changes wait for the shard (encoded once per checkpoint).
            return
        }
        var records: [StateRecord] = []
        let all = writer.takeStoreLost()
        for p in all ? Array(tasks.keys) : partitions {
            guard let task = tasks[p] else { continue }
            records += all ? task.allRecords() : task.takeChanges()
            if all { _ = task.takeChanges() }
        }
        guard !records.isEmpty else { return }
        // The member's clock: the latest event time any of its partitions admitted.
        let clock = tasks.values.map(\.clock).max() ?? .min
        try writer.submit(OnlineWriter.Batch(records: records, readTimes: [], clock: clock == .min ? nil : clock))
    }

    /// Makes the sinks hold everything of `partitions`, then writes their shards.
    private func checkpoint(_ partitions: [Int32]) throws {
        guard !partitions.isEmpty else { return }
        try flush(partitions)
        try writer?.drain()
        // A store found during that drain to have lost states (a restart, a cluster failover) gets
        // every held partition's states again before any shard says the store holds them.
        while let writer, writer.takeStoreLost() {
            var records: [StateRecord] = []
            for task in tasks.values {
                records += task.allRecords()
                _ = task.takeChanges()
            }
            let clock = tasks.values.map(\.clock).max() ?? .min
            try writer.submit(OnlineWriter.Batch(records: records, readTimes: [], clock: clock == .min ? nil : clock))
            try writer.drain()
        }
        if let m = writer?.take() { report.statesWritten += m.statesWritten }
        // A member that stalled (a store outage longer than the poll interval) may have lost its
        // partitions to another member meanwhile: its shards must not overwrite the new owner's.
        if consumer?.assignmentLost == true {
            StandardError.line("kafka: this member's partitions were taken away while it was stalled; no shard written")
            return
        }
        for p in partitions {
            // A partition with no line since its shard was written is where its shard says (each
            // shard write is an fsync: on a disk, milliseconds per partition).
            guard let task = tasks[p], task.hasNewLines else { continue }
            do {
                _ = try task.writeShard(layout: layout, owner: options.name)
            } catch let fenced as PartitionFenced {
                fence(fenced)
            }
        }
        report.checkpoints += 1
    }

    public func close() {
        consumer?.close()
        consumer = nil
        writer?.stop()
    }
}
