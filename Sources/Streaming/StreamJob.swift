import FeatureCore
import FsmlCore
import OfflineStorage
import OnlineStorage

/// How a stream job runs; the sources and sinks are passed to it separately.
public struct StreamOptions: Sendable {
    /// Names the checkpoint and the reject logs, so that rerunning the same job resumes it.
    public var name: String
    public var checkpointDirectory: String
    /// Where dead letters and late events go when there is no offline store.
    public var rejectDirectory: String
    public var checkpointInterval: Double = 5
    /// A micro-batch ends after this many seconds or `flushEvents` admitted events.
    public var flushInterval: Double = 0.02
    public var flushEvents: Int = 50_000
    /// Events per second to release at most; nil for as fast as possible.
    public var rate: Double?
    /// Entity kinds this job folds (nil: all).
    public var entityKinds: [Int]?
    /// Stops after this many lines in this run (tests and benchmarks).
    public var maxLines: Int?
    /// How writes to a failing online store are retried.
    public var retry = RetryPolicy.standard

    public init(name: String, checkpointDirectory: String, rejectDirectory: String) {
        self.name = name
        self.checkpointDirectory = checkpointDirectory
        self.rejectDirectory = rejectDirectory
    }
}

/// The stream job: events from a source, through the same intake (parse, validate, admission) and
/// the same time engine as the point-in-time builder, to the online store (changed entity states,
/// in micro-batches) and the offline store (admitted events), with checkpoints that make a restart
/// continue exactly where the last checkpoint left off.
///
/// Exactly once, through crashes: a checkpoint is taken only when every sink holds everything up
/// to it (online states written, offline files committed, reject logs synced). A restart loads the
/// checkpoint and undoes what came after it: offline files from its sequence on are removed,
/// reject logs cut back to their checkpointed size, the engine states replaced by the
/// checkpointed ones and the source rewound. Online writes after the checkpoint need no undoing:
/// the replay writes the same states again, and event-time-wins keeps the store from going back.
public final class StreamJob {
    public let registry: FeatureRegistry
    public let engine: FeatureEngine
    public let states: StateTable
    let source: any EventSource
    let sourceName: String
    let online: (any OnlineStore)?
    private let writer: OnlineWriter?
    let offlineStore: OfflineStore?
    let offline: OfflineStoreWriter?
    let options: StreamOptions
    let metrics: MetricsRegistry
    let progress: Progress
    public private(set) var intake: Intake
    private var runID = StreamJob.newRunID()
    private var deadLetters: RejectLog
    private var late: RejectLog
    public private(set) var report = StreamReport()
    /// When each admitted event since the last flush was read (monotonic ns), for freshness.
    private var readTimes: [UInt64] = []
    /// Every state's bytes as of the last flush or checkpoint.
    private var encoded: EncodedStates
    private var lastReadAt: UInt64 = 0
    /// Admitted events not yet folded: folded a batch at a time (`StateTable.fold(_:)`, whose
    /// cache misses overlap), and always before anything reads the states.
    private var unfolded: [Event] = []
    private var published = IntakeCounts()
    private var lastWriteSeconds: Double?
    private let labels: [(String, String)]

    public init(
        registry: FeatureRegistry, source: any EventSource, sourceName: String, online: (any OnlineStore)?,
        offline: OfflineStore?, options: StreamOptions, metrics: MetricsRegistry = MetricsRegistry()
    ) {
        self.registry = registry
        engine = FeatureEngine(registry: registry)
        states = StateTable(engine: engine, entityKinds: options.entityKinds, tracksChanges: true)
        encoded = EncodedStates(entityCount: engine.entities.count)
        self.source = source
        self.sourceName = sourceName
        self.online = online
        labels = [("job", options.name)]
        writer = online.map {
            OnlineWriter(
                store: $0, job: options.name, policy: options.retry, metrics: metrics, labels: [("job", options.name)])
        }
        offlineStore = offline
        self.offline = offline.map { OfflineStoreWriter(store: $0, schema: registry.schema, background: true) }
        self.options = options
        self.metrics = metrics
        progress = Progress("stream")
        intake = Intake(schema: registry.schema, lateness: registry.allowedLateness, jumps: registry.clockJumps)
        (deadLetters, late) = StreamJob.rejectLogs(options: options, offline: offline, runID: runID)
        // Every counter exists from the start, at 0, so that a scrape sees rates and alerts can fire.
        publishCounts()
        metrics.add("fsml_stream_checkpoints_total", 0, help: "Checkpoints written.", labels: labels)
    }

    static func newRunID() -> String {
        Timestamp.format(wallClockMicros()).replacingOccurrences(of: ":", with: "").replacingOccurrences(
            of: ".", with: "")
    }

    static func rejectLogs(options: StreamOptions, offline: OfflineStore?, runID: String) -> (RejectLog, RejectLog) {
        let name = "\(options.name)-\(runID)"
        if let offline {
            return (
                RejectLog(directory: offline.deadLetterDirectory, name: name),
                RejectLog(directory: offline.lateDirectory, name: name)
            )
        }
        return (
            RejectLog(directory: "\(options.rejectDirectory)/dead_letters", name: name),
            RejectLog(directory: "\(options.rejectDirectory)/late", name: name)
        )
    }

    public var checkpointPath: String { "\(options.checkpointDirectory)/\(Checkpoint.fileName(options.name))" }
    public var deadLetterPath: String { deadLetters.path }
    public var latePath: String { late.path }

    // MARK: - Starting

    /// Resumes from the checkpoint when there is one; otherwise, when the offline store already
    /// holds events (a batch ingest, or a job whose checkpoint was removed), replays them into the
    /// engine so that online states start from the whole history. Returns how it started.
    @discardableResult
    public func start() throws -> StreamStart {
        if FileSystem.exists(checkpointPath) {
            let checkpoint = try Checkpoint.decode(try FileSystem.readBytes(checkpointPath), file: checkpointPath)
            try resume(from: checkpoint)
            report.start = .resumed(line: checkpoint.intake.counts.lines)
        } else if let offlineStore, let state = try IntakeState.load(path: offlineStore.statePath) {
            try offlineStore.removeUncommitted(from: state.nextSequence)
            let scanner = try OfflineStoreScanner(
                store: offlineStore, schema: registry.schema, fields: engine.fieldsRead)
            while let stored = try scanner.next() { states.fold(stored.event) }
            intake = Intake(
                schema: registry.schema, lateness: registry.allowedLateness, jumps: registry.clockJumps, state: state)
            report.start = .bootstrapped(events: scanner.eventsRead)
        } else {
            if let offlineStore, try !offlineStore.files().isEmpty {
                throw StreamError(
                    "\(offlineStore.root) holds events but no _state.json; stream into an empty store or restore its state"
                )
            }
            report.start = .fresh
        }
        published = intake.counts
        report.totalsAtStart = intake.counts
        publishPosition()
        if case .resumed = report.start {
        } else {
            // From here on every crash resumes from a checkpoint, which knows what to undo.
            try checkpoint()
        }
        return report.start
    }

    private func resume(from checkpoint: Checkpoint) throws {
        guard checkpoint.fingerprints == engine.entities.map(\.fingerprint) else {
            throw StreamError(
                "\(checkpointPath) was written under other feature definitions; remove it to start over (states would be wrong)"
            )
        }
        guard checkpoint.source == sourceName else {
            throw StreamError(
                "\(checkpointPath) belongs to source \(checkpoint.source), not \(sourceName); use another --checkpoint or remove it"
            )
        }
        guard checkpoint.entityKinds == states.entityKinds else {
            throw StreamError("\(checkpointPath) folds other entity kinds; use another --checkpoint or remove it")
        }
        if let offlineStore {
            // Another writer (a batch ingest) moved the store on: replaying would number events twice.
            if let state = try IntakeState.load(path: offlineStore.statePath),
                state.nextSequence > checkpoint.intake.nextSequence
            {
                throw StreamError(
                    "\(offlineStore.root) was written past this job's checkpoint (sequence \(state.nextSequence) > \(checkpoint.intake.nextSequence)); another writer used it"
                )
            }
            try offlineStore.removeUncommitted(from: checkpoint.intake.nextSequence)
            try checkpoint.intake.save(to: offlineStore.statePath)
        }
        runID = checkpoint.runID
        (deadLetters, late) = Self.rejectLogs(options: options, offline: offlineStore, runID: runID)
        try deadLetters.truncate(to: checkpoint.deadLetterBytes)
        try late.truncate(to: checkpoint.lateBytes)
        intake = Intake(
            schema: registry.schema, lateness: registry.allowedLateness, jumps: registry.clockJumps,
            state: checkpoint.intake)
        for s in checkpoint.states {
            guard s.entity < engine.entities.count else {
                throw StreamError("\(checkpointPath): unknown entity \(s.entity)")
            }
            do {
                let id = states.setState(
                    try StateCodec.decode(s.blob, engine: engine, entity: s.entity), entity: s.entity, key: s.key)
                encoded.set(entity: s.entity, id: id, key: s.key, s.blob)
            } catch {
                throw StreamError(
                    "\(checkpointPath): state of \(engine.entities[s.entity].entity.name) \(s.key): \(error)")
            }
        }
        _ = states.takeChanges()
        try source.restore(try JSONParser.parse(JSONText.render(checkpoint.position, indent: nil)))
    }

    // MARK: - Running

    /// Runs until the source ends (bounded sources), `maxLines`, or SIGINT/SIGTERM; then flushes
    /// and checkpoints. An error leaves the last checkpoint as it was: a restart resumes there.
    public func run() throws -> StreamReport {
        let started = monotonicNanos()
        let flushNanos = UInt64(options.flushInterval * 1e9)
        let checkpointNanos = UInt64(options.checkpointInterval * 1e9)
        var nextFlush = started + flushNanos
        var nextCheckpoint = started + checkpointNanos
        let pace = options.rate.map { 1e9 / $0 }
        var due = Double(started)
        var lines = 0
        var now = started
        while !StopSignal.isRaised {
            if let max = options.maxLines, lines >= max { break }
            if let pace {
                // Release the next line at its time, flushing while waiting.
                while !StopSignal.isRaised {
                    let now = monotonicNanos()
                    if Double(now) >= due { break }
                    if !readTimes.isEmpty && Double(nextFlush) <= due {
                        if nextFlush > now { sleepNanos(nextFlush - now) }
                        try flush()
                        nextFlush = monotonicNanos() + flushNanos
                    } else {
                        sleepNanos(UInt64(due) - now)
                    }
                }
                // A source that fell behind does not make up for it in a burst.
                now = monotonicNanos()
                due = max(due + pace, Double(now) - 1e9)
            }
            // `now` is the clock as last read, a line ago: one reading per line (a tenth of a
            // microsecond each on this VM) serves the freshness, the flush and the wait.
            var waitLimit = readTimes.isEmpty ? 0.05 : Double(nextFlush &- min(nextFlush, now)) / 1e9
            // Overdue behind a busy writer: wait a little for a line (not at all would spin).
            if waitLimit == 0 && writer?.isBusy == true { waitLimit = 0.001 }
            let line = try source.next(timeout: waitLimit)
            now = monotonicNanos()
            for event in source.takePartitionEvents() {
                switch event {
                case .assigned(let partitions): intake.admission.assign(partitions)
                case .idle(let partition): intake.admission.idle(partition)
                }
            }
            if let line {
                lines += 1
                lastReadAt = now
                var sink = self
                try intake.take(
                    line, length: source.lineLength, partition: source.partition, origin: self.origin, into: &sink)
            } else if source.isExhausted {
                var sink = self
                try intake.finish(into: &sink)
                break
            }
            // While the writer is still writing the last batch, changes collect for the next one:
            // a state changed again meanwhile is encoded and written once, not once per interval.
            if readTimes.count >= options.flushEvents || (now >= nextFlush && !(writer?.isBusy ?? false)) {
                try flush()
                nextFlush = now + flushNanos
            }
            if now >= nextCheckpoint {
                // An idle job has nothing new to record.
                if intake.counts.lines != report.totals.lines { try checkpoint() }
                nextCheckpoint = monotonicNanos() + checkpointNanos
            }
            if lines & 0x3FF == 0 { showProgress(started) }
        }
        try checkpoint()
        report.seconds = Double(monotonicNanos() - started) / 1e9
        showProgress(started, final: true)
        return report
    }

    /// Hands the entity states changed since the last flush to the online writer. Without one,
    /// changes wait for the checkpoint: a hot state is then encoded once per checkpoint, not per flush.
    private func flush() throws {
        foldAdmitted()
        defer {
            readTimes.removeAll(keepingCapacity: true)
            collectMeasurements()
            publishCounts()
        }
        guard let writer else { return }
        var packed = encodeChanges(forStore: true)
        if writer.takeStoreLost() {
            // The store lost everything: every state the job holds is written again.
            packed = PackedStates(allRecords())
        }
        guard !packed.isEmpty else { return }
        let clock = intake.admission.clock
        try writer.submit(
            OnlineWriter.Batch(states: packed, readTimes: readTimes, clock: clock == .min ? nil : clock))
    }

    private func foldAdmitted() {
        guard !unfolded.isEmpty else { return }
        states.fold(unfolded)
        unfolded.removeAll(keepingCapacity: true)
    }

    /// Encodes the states changed since the last call, keeps their bytes for the checkpoint and,
    /// `forStore`, returns them packed for the store.
    private func encodeChanges(forStore: Bool) -> PackedStates {
        let changes = states.takeChangedStates()
        var packed = PackedStates()
        if forStore {
            let count = changes.reduce(0) { $0 + $1.count }
            packed.reserve(states: count, bytes: 64 * count)
        }
        for (e, changed) in changes.enumerated() {
            for (id, key, state) in changed {
                let blob = StateCodec.encode(state, engine: engine, entity: e)
                encoded.set(entity: e, id: id, key: key, blob)
                if forStore { packed.append(entity: e, key: key, lastTime: state.lastTime, blob: blob) }
            }
        }
        return packed
    }

    /// Writes every entity state the engine holds, and the clock, to `store`: how `fsml serve
    /// --stream` fills its in-memory mirror after the job starts from a checkpoint or the offline store.
    public func publishAllStates(to store: any OnlineStore) throws {
        foldAdmitted()
        try store.write(allRecords())
        if intake.admission.clock != .min { try store.writeClock(intake.admission.clock) }
    }

    /// Every entity state the job holds, encoded for the store.
    private func allRecords() -> [StateRecord] {
        var records: [StateRecord] = []
        records.reserveCapacity(states.entityCount)
        for e in states.entityKinds {
            states.forEach(entity: e) { key, state in
                records.append(
                    StateRecord(
                        entity: e, key: key, lastTime: state.lastTime,
                        blob: StateCodec.encode(state, engine: engine, entity: e)))
            }
        }
        return records
    }

    /// Whether writes to the online store are failing (and being retried) now.
    public var storeIsFailing: Bool { writer?.isRetrying ?? false }

    /// Moves what the writer measured into the report and the metrics.
    private func collectMeasurements() {
        guard let writer else { return }
        let m = writer.take()
        guard m.batches > 0 else { return }
        for s in m.writeSeconds { report.onlineWrite.add(s) }
        lastWriteSeconds = m.writeSeconds.last
        for s in m.freshnessSeconds { report.freshness.add(s) }
        metrics.observe(
            "fsml_online_write_duration_seconds", m.writeSeconds,
            help: "Time to write one micro-batch of entity states to the online store.", labels: labels)
        metrics.observe(
            "fsml_stream_freshness_seconds", m.freshnessSeconds,
            help: "From reading an event to its effect being written to the online store.", labels: labels)
        report.statesWritten += m.statesWritten
        report.flushes += m.batches
    }

    /// Makes every sink hold everything so far, then records where the job is.
    public func checkpoint() throws {
        try flush()
        try writer?.drain()
        // A store found during that drain to have lost states (a restart, a cluster failover) gets
        // them all again before the checkpoint says the store holds them.
        while let writer, writer.takeStoreLost() {
            let clock = intake.admission.clock
            try writer.submit(
                OnlineWriter.Batch(
                    states: PackedStates(allRecords()), readTimes: [], clock: clock == .min ? nil : clock))
            try writer.drain()
        }
        collectMeasurements()
        try offline?.commit()
        try deadLetters.sync()
        try late.sync()
        let watermark = intake.admission.watermark
        _ = encodeChanges(forStore: false)
        encoded.remove(states.evictExpired(watermark: watermark))
        try online?.expire(watermark: watermark, entities: states.entityKinds)
        let intakeState = intake.state
        let checkpoint = Checkpoint(
            runID: runID, source: sourceName, position: source.position, intake: intakeState,
            deadLetterBytes: deadLetters.bytes, lateBytes: late.bytes, fingerprints: engine.entities.map(\.fingerprint),
            entityKinds: states.entityKinds, states: [])
        try FileSystem.createDirectory(options.checkpointDirectory)
        try checkpoint.write(states: encoded, to: checkpointPath)
        if let offlineStore { try intakeState.save(to: offlineStore.statePath) }
        try source.commit()
        report.checkpoints += 1
        report.entities = encoded.count
        report.stateBytes = encoded.stateBytes
        report.totals = intake.counts
        report.watermark = watermark
        metrics.add("fsml_stream_checkpoints_total", help: "Checkpoints written.", labels: labels)
        metrics.set(
            "fsml_stream_entities", Double(encoded.count), help: "Entity states held in memory.", labels: labels)
        publishCounts()
    }

    private func publishCounts() {
        let c = intake.counts
        let p = published
        metrics.add(
            "fsml_stream_events_total", Double(c.lines - p.lines), help: "Lines read from the source.", labels: labels)
        metrics.add(
            "fsml_stream_admitted_events_total", Double(c.admitted - p.admitted), help: "Events admitted and folded.",
            labels: labels)
        metrics.add(
            "fsml_stream_late_events_total", Double(c.late - p.late), help: "Events older than the watermark.",
            labels: labels)
        metrics.add(
            "fsml_stream_duplicate_events_total", Double(c.duplicates - p.duplicates),
            help: "Events whose id was seen within the watermark.", labels: labels)
        metrics.add(
            "fsml_stream_dead_letters_total", Double(c.deadLetters - p.deadLetters),
            help: "Lines that failed parsing or validation, or were dated too far ahead.", labels: labels)
        metrics.set(
            "fsml_stream_waiting_events", Double(c.waiting),
            help: "Events dated too far ahead of the clock, waiting for others to confirm the jump.", labels: labels)
        publishPosition()
        if let lag = watermarkLag {
            metrics.set(
                "fsml_stream_watermark_lag_seconds", lag, help: "Wall-clock time minus the event-time watermark.",
                labels: labels)
        }
        published = c
        report.counts = c.minus(report.totalsAtStart)
    }

    /// How far into a file source the job is: what traffic replayed from the same file follows.
    private func publishPosition() {
        guard let file = source as? FileSource else { return }
        metrics.set(
            "fsml_stream_source_lines", Double(file.linesRead),
            help: "Lines of the source file consumed, counting those before a restored checkpoint.", labels: labels)
    }

    var watermarkLag: Double? {
        let w = intake.admission.watermark
        return w == .min ? nil : Double(wallClockMicros() - w) / 1e6
    }

    private func showProgress(_ started: UInt64, final: Bool = false) {
        guard final || progress.isDue else { return }
        let c = intake.counts.minus(report.totalsAtStart)
        var detail = "admitted \(Progress.count(c.admitted)), late \(Progress.count(c.late)), "
        detail += "duplicates \(Progress.count(c.duplicates)), dead letters \(Progress.count(c.deadLetters))"
        if let lag = watermarkLag { detail += ", watermark lag \(DurationText.human(seconds: lag))" }
        if let last = lastWriteSeconds { detail += ", online write \(Progress.fixed(last * 1000, 2)) ms" }
        if final { progress.finish(c.lines, detail: detail) } else { progress.update(c.lines, detail: detail) }
    }

    deinit { writer?.stop() }

    public func close() {
        writer?.stop()
        source.close()
    }
}

public struct StreamError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What the intake admits is folded and recorded; what it rejects goes to the reject logs.
extension StreamJob: IntakeSink {
    var origin: Origin {
        let o = source.origin
        return Origin(source: o.source, line: o.line)
    }

    public func admitted(_ stored: StoredEvent) throws {
        unfolded.append(stored.event)
        if unfolded.count == StateTable.batch { foldAdmitted() }
        try offline?.append(stored)
        if online != nil { readTimes.append(lastReadAt) }
    }

    public func late(_ event: Event, watermark: Micros, raw: UnsafeRawBufferPointer, origin: Origin) throws {
        try late.late(
            event: event, schema: registry.schema, watermark: watermark, raw: raw, source: origin.source,
            line: origin.line)
    }

    public func deadLetter(reason: String, raw: UnsafeRawBufferPointer, origin: Origin) throws {
        try deadLetters.deadLetter(reason: reason, raw: raw, source: origin.source, line: origin.line)
    }
}
