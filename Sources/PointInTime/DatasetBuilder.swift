import FeatureCore
import FsmlCore
import OfflineStorage
import Parquet

public struct BuildOptions: Sendable {
    /// Examples with event time in [start, end) (all when nil).
    public var start: Micros?
    public var end: Micros?
    /// Use every admitted event before t, not only those known by t.
    public var eventTimeOnly = false

    public init() {}
}

/// What a build did, for the manifest and the summary.
public struct BuildReport: Sendable {
    public var rows = 0
    public var positives = 0
    public var immature = 0
    public var examples = 0
    public var eventsReplayed = 0
    public var firstExample: Micros?
    public var lastExample: Micros?
    /// The final watermark: labels are settled before it.
    public var settledUntil: Micros?
    public var files: [OfflineStore.DataFile] = []
    public var features: [Int] = []
}

/// Builds point-in-time training sets from the offline store, through the same engine the stream
/// job and the server use (no feature is implemented twice).
///
/// With the registry's label: every example event with time t in the range becomes a
/// row holding the example event's fields, every served feature as of t, and the label. Pass 1
/// finds the examples (time, sequence, entity keys). Pass 2 replays the store in arrival order
/// through a `StateTable`: an example is evaluated once the replay's clock reaches t (before any
/// event known at or after t is folded, so late events count as the server saw them); its row
/// waits until the watermark passes t + horizon, then gets its label and is written. Rows come out
/// in time order; memory holds entity state and about a horizon's worth of rows, not the events.
///
/// With a spine: each spine row gets every served feature as of its timestamp, in spine order.
public final class DatasetBuilder {
    public let registry: FeatureRegistry
    public let engine: FeatureEngine
    public let store: OfflineStore
    public let options: BuildOptions
    public let features: [Int]
    public var progress: Progress?
    /// Events per chunk handed to the fold thread: enough to make the hand-over cheap, few enough
    /// to keep memory small. Any size gives the same rows (tests use small ones).
    public var chunkEvents = 16_384
    /// Threads that fold, each for some of the entity kinds. Any number gives the same rows.
    public var threads = Parallel.defaultThreads

    public init(registry: FeatureRegistry, store: OfflineStore, options: BuildOptions) {
        self.registry = registry
        engine = FeatureEngine(registry: registry)
        self.store = store
        self.options = options
        features = registry.servedFeatures
    }

    // MARK: columns

    /// The example event's own fields (for segments and audits; not model inputs), then the
    /// features, then the label.
    public var exampleColumns: [ParquetColumn] {
        let context = Array(OfflineSchema(schema: registry.schema).columns.prefix(registry.schema.fields.count)).map {
            var c = $0
            c.optional = true
            return c
        }
        return context + featureColumns + [
            ParquetColumn(name: registry.label?.name ?? "label", physical: .int32, optional: false)
        ]
    }

    public var featureColumns: [ParquetColumn] {
        features.map { ParquetColumn(name: registry.features[$0].name, physical: .double, optional: true) }
    }

    // MARK: examples from the label definition

    struct Example: Sendable {
        var time: Micros
        var sequence: Int64
        /// Per entity kind, the key's id in the build's key tables, or -1.
        var keys: [Int32]
        /// The values of `engine.requestFields` on the example event, for derived features.
        var request: [FieldValue]
    }

    /// How far behind the clock an admitted event can arrive: the allowed lateness, or more when a
    /// partitioned source (Kafka) let a slow partition's events in later (the store's state says).
    func replayLateness() throws -> Micros {
        max(registry.allowedLateness, try IntakeState.load(path: store.statePath)?.admission.maxLag ?? 0)
    }

    public func buildExamples(into writer: DatasetWriter) throws -> BuildReport {
        guard let labelSpec = registry.label else {
            throw BuildError(
                description:
                    "\(registry.source) declares no label; give --spine to compute features for given keys and times")
        }
        var report = BuildReport()
        report.features = features
        // Pass 1: the examples and the final clock, file by file on every core (arrival order
        // does not matter here: the examples are sorted after).
        let requestFields = engine.requestFields
        let examplesRead = engine.fieldsRead.union(labelSpec.example.fieldsRead).union(requestFields)
        let files = try store.files()
        report.files = files
        struct Found {
            var events = 0
            var lastKnown = Micros.min
            var examples: [(time: Micros, sequence: Int64, keys: [String?], request: [FieldValue])] = []
        }
        var found = try Parallel.map(files.count) { i in
            var found = Found()
            let scan = try OfflineStoreScanner(files: [files[i]], schema: registry.schema, fields: examplesRead)
            while let stored = try scan.next() {
                found.lastKnown = max(found.lastKnown, stored.knownAt)
                let t = stored.event.time
                guard labelSpec.example.matches(stored.event) else { continue }
                if let s = options.start, t < s { continue }
                if let e = options.end, t >= e { continue }
                found.examples.append(
                    (
                        t, stored.sequence, engine.entities.map { $0.keyMaker.key(stored.event) },
                        requestFields.map { stored.event.values[$0] }
                    ))
            }
            found.events = scan.eventsRead
            return found
        }
        progress?.update(found.reduce(0) { $0 + $1.events }, detail: "found examples")
        var keyTables = [EntityKeyTable](repeating: EntityKeyTable(), count: engine.entities.count)
        var examples: [Example] = []
        examples.reserveCapacity(found.reduce(0) { $0 + $1.examples.count })
        let lastKnown = found.map(\.lastKnown).max() ?? .min
        for i in found.indices {
            for x in found[i].examples {
                let keys = x.keys.enumerated().map { e, key in
                    key.map { keyTables[e].id($0, hash: EntityKeyTable.hash($0)).id } ?? -1
                }
                examples.append(Example(time: x.time, sequence: x.sequence, keys: keys, request: x.request))
            }
            found[i] = Found()  // each file's drafts go as soon as they are in
        }
        examples.sort { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
        report.examples = examples.count
        let settledFinal = lastKnown == .min ? Micros.min : lastKnown - (try replayLateness())
        report.settledUntil = lastKnown == .min ? nil : settledFinal

        // Pass 2: replay, evaluate, label, write. The evaluator folds and evaluates one chunk
        // while this thread reads the next and labels the one before.
        let labels = LabelRule(spec: labelSpec)
        var replay = Replay(
            scanner: try OfflineStoreScanner(store: store, schema: registry.schema),
            eventTimeOnly: options.eventTimeOnly,
            lateness: try replayLateness())
        let evaluator = ExampleEvaluator(
            engine: engine, features: features, examples: examples, keys: keyTables, threads: threads)
        keyTables = []
        var evaluated: [Int64: [Double]] = [:]
        struct Row {
            var time: Micros
            var sequence: Int64
            var values: [Double]
            var context: [FieldValue]
            var matchKey: String?
        }
        // Rows wait in slots; the heap orders small keys, not the rows themselves.
        var slots: [Row?] = []
        var freeSlots: [Int] = []
        var pending = Heap<(time: Micros, sequence: Int64, slot: Int)> {
            ($0.time, $0.sequence) < ($1.time, $1.sequence)
        }
        func park(_ row: Row) {
            let slot: Int
            if let free = freeSlots.popLast() {
                slot = free
                slots[slot] = row
            } else {
                slot = slots.count
                slots.append(row)
            }
            pending.push((row.time, row.sequence, slot))
        }
        func unpark() -> Row? {
            guard let key = pending.pop() else { return nil }
            defer {
                slots[key.slot] = nil
                freeSlots.append(key.slot)
            }
            return slots[key.slot]
        }
        var recentOutcomes: [String: [Micros]] = [:]
        let output = RowBuffer(columns: exampleColumns, writer: writer)

        func emit(_ row: Row) throws {
            let label =
                row.matchKey.flatMap { recentOutcomes[$0] }.map { labels.label(exampleAt: row.time, outcomes: $0) }
                ?? false
            if label { report.positives += 1 }
            report.rows += 1
            report.firstExample = min(report.firstExample ?? row.time, row.time)
            report.lastExample = max(report.lastExample ?? row.time, row.time)
            try output.append(context: row.context, features: row.values, label: label)
        }
        /// Parks a chunk's examples with their values, collects outcomes and writes the rows the
        /// chunk settles, event by event as a single pass would.
        func label(_ chunk: ReplayChunk, values: [[Double]]) throws {
            for (k, v) in zip(chunk.examples, values) { evaluated[examples[k].sequence] = v }
            for (i, stored) in chunk.events.enumerated() {
                if let values = evaluated.removeValue(forKey: stored.sequence) {
                    park(
                        Row(
                            time: stored.event.time, sequence: stored.sequence, values: values,
                            context: stored.event.values, matchKey: labels.matchKey(stored.event)))
                }
                if labelSpec.outcome.matches(stored.event), let key = labels.matchKey(stored.event) {
                    recentOutcomes[key, default: []].append(stored.event.time)
                }
                let settled = chunk.settled[i]
                while let top = pending.peek, top.time + labelSpec.within < settled {
                    let row = unpark()!
                    if labels.isMature(row.time, settledUntil: settledFinal) {
                        try emit(row)
                    } else {
                        report.immature += 1
                    }
                }
                if chunk.tidies[i] {
                    let keep = (pending.peek?.time ?? settled) - 1
                    recentOutcomes = recentOutcomes.filter { $0.value.contains { $0 > keep } }
                }
            }
        }

        try replayInChunks(&replay, examples: examples, evaluator: evaluator, stopWhenEvaluated: false) {
            chunk, values, eventsRead in
            try label(chunk, values: values)
            progress?.update(eventsRead, detail: "\(Progress.count(report.rows)) rows")
        }
        // The rest: settled rows get their labels; the others are immature and left out.
        while let row = unpark() {
            if labels.isMature(row.time, settledUntil: settledFinal) {
                try emit(row)
            } else {
                report.immature += 1
            }
        }
        report.eventsReplayed = replay.eventsRead
        try output.finish()
        return report
    }

    // MARK: spines

    /// Every feature for every spine row, in the spine's order (`results[row][k]` for `features[k]`),
    /// without writing anything: what `fsml parity` compares with the online store.
    public func evaluateSpine(_ spine: Spine) throws -> (results: [[Double]], report: BuildReport) {
        var report = BuildReport()
        report.features = features
        report.examples = spine.rows
        // The rows as examples in time order (ties in spine order), their keys given ids.
        let order = spine.times.indices.sorted { (spine.times[$0], $0) < (spine.times[$1], $1) }
        var keyTables = [EntityKeyTable](repeating: EntityKeyTable(), count: engine.entities.count)
        let requestFields = engine.requestFields
        let examples = order.map { row in
            Example(
                time: spine.times[row], sequence: Int64(row),
                keys: engine.entities.indices.map { e in
                    // A spine made in code may name fewer entity kinds than the registry has.
                    guard e < spine.keys.count, let key = spine.keys[e][row] else { return -1 }
                    return keyTables[e].id(key, hash: EntityKeyTable.hash(key)).id
                },
                request: requestFields.map { spine.field($0, row: row) })
        }
        let evaluator = ExampleEvaluator(
            engine: engine, features: features, examples: examples, keys: keyTables, threads: threads)
        keyTables = []
        var results = [[Double]](repeating: [], count: spine.rows)
        var replay = Replay(
            scanner: try OfflineStoreScanner(store: store, schema: registry.schema, fields: engine.fieldsRead),
            eventTimeOnly: options.eventTimeOnly,
            lateness: try replayLateness())
        try replayInChunks(&replay, examples: examples, evaluator: evaluator, stopWhenEvaluated: true) {
            chunk, values, eventsRead in
            for (k, values) in zip(chunk.examples, values) { results[order[k]] = values }
            progress?.update(
                eventsRead,
                detail: "\(Progress.count(chunk.examples.upperBound)) of \(Progress.count(spine.rows)) rows")
        }
        report.files = try store.files()
        report.eventsReplayed = replay.eventsRead
        report.rows = spine.rows
        report.firstExample = spine.times.min()
        report.lastExample = spine.times.max()
        return (results, report)
    }

    /// Replays the store through the evaluator in chunks of `chunkEvents`: this thread reads chunk
    /// k + 1 while the evaluator folds chunk k, then hands chunk k and its examples' values to
    /// `consume`, in order, with the events read so far. Examples the replay never reached are evaluated after its last event.
    /// With `stopWhenEvaluated` the replay ends once every example is (a spine: later events
    /// cannot change a value).
    private func replayInChunks(
        _ replay: inout Replay, examples: [Example], evaluator: ExampleEvaluator, stopWhenEvaluated: Bool,
        consume: (_ chunk: ReplayChunk, _ values: [[Double]], _ eventsRead: Int) throws -> Void
    ) throws {
        var next = 0
        var ended = false
        var inFlight: (chunk: ReplayChunk, values: ExampleEvaluator.Pending)?
        while true {
            var chunk = ReplayChunk(firstExample: next)
            while !ended && chunk.events.count < chunkEvents {
                guard let (stored, progressValue) = try replay.next() else {
                    ended = true
                    break
                }
                while next < examples.count && examples[next].time <= progressValue { next += 1 }
                if stopWhenEvaluated && next == examples.count {
                    ended = true
                } else {
                    chunk.append(
                        stored, evaluateUntil: next, settled: replay.settled(after: progressValue),
                        tidy: replay.eventsRead % 262_144 == 0)
                }
            }
            if ended {
                chunk.evaluateAfter = examples.count
                next = examples.count
            }
            let submitted = chunk.examples.isEmpty && chunk.events.isEmpty ? nil : try evaluator.submit(chunk)
            if let previous = inFlight { try consume(previous.chunk, try previous.values.wait(), replay.eventsRead) }
            guard let submitted else { return }
            inFlight = (chunk, submitted)
        }
    }

    public func buildSpine(_ spine: Spine, into writer: DatasetWriter) throws -> BuildReport {
        let (results, report) = try evaluateSpine(spine)
        // Spine columns as given, then the features, in the spine's order, in row groups.
        var start = 0
        while start < spine.rows {
            let end = min(start + DatasetWriter.rowGroupRows, spine.rows)
            let slice = Array(start..<end)
            var batch = spine.data.map { $0.selecting(rows: slice) }
            for (k, _) in features.enumerated() {
                let values = slice.map { results[$0][k] }
                batch.append(ColumnData(.double(values.map { $0.isNaN ? 0 : $0 }), nulls: values.map(\.isNaN)))
            }
            try writer.append(batch)
            start = end
        }
        return report
    }
}

public struct BuildError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Rows of (context, features, label) gathered into columns and handed to the writer in chunks.
/// Building the columns and encoding them run on a worker thread, beside the replay.
final class RowBuffer {
    let columns: [ParquetColumn]
    let writer: DatasetWriter
    private let worker = SerialWorker(name: "fsml-dataset-writer")
    private var context: [[FieldValue]] = []
    private var values: [[Double]] = []
    private var labels: [Bool] = []

    init(columns: [ParquetColumn], writer: DatasetWriter) {
        self.columns = columns
        self.writer = writer
    }

    deinit {
        try? worker.drain()
        worker.stop()
    }

    func append(context c: [FieldValue], features f: [Double], label: Bool) throws {
        context.append(c)
        values.append(f)
        labels.append(label)
        if labels.count >= 16_384 { try flush() }
    }

    /// Writes what is buffered and waits until the writer has it.
    func finish() throws {
        try flush()
        try worker.drain()
    }

    private func flush() throws {
        guard !labels.isEmpty else { return }
        let (columns, writer, context, values, labels) = (columns, writer, context, values, labels)
        self.context = []
        self.values = []
        self.labels = []
        try worker.submit {
            try writer.append(Self.batch(columns: columns, context: context, values: values, labels: labels))
        }
    }

    private static func batch(
        columns: [ParquetColumn], context: [[FieldValue]], values: [[Double]], labels: [Bool]
    ) -> [ColumnData] {
        let contextCount = context[0].count
        var batch: [ColumnData] = []
        for f in 0..<contextCount {
            let column = columns[f]
            let cells = context.map { $0[f] }
            let nulls = cells.map { if case .missing = $0 { return true } else { return false } }
            switch column.physical {
            case .byteArray: batch.append(ColumnData(.byteArray(cells.map { $0.stringValue ?? "" }), nulls: nulls))
            case .double: batch.append(ColumnData(.double(cells.map { $0.numericValue ?? 0 }), nulls: nulls))
            case .int64: batch.append(ColumnData(.int64(cells.map { Int64($0.numericValue ?? 0) }), nulls: nulls))
            case .boolean:
                batch.append(
                    ColumnData(
                        .boolean(cells.map { if case .bool(let b) = $0 { return b } else { return false } }),
                        nulls: nulls))
            default: batch.append(ColumnData(.byteArray(cells.map { _ in "" }), nulls: cells.map { _ in true }))
            }
        }
        for k in 0..<(values.first?.count ?? 0) {
            let column = values.map { $0[k] }
            batch.append(ColumnData(.double(column.map { $0.isNaN ? 0 : $0 }), nulls: column.map(\.isNaN)))
        }
        batch.append(ColumnData(.int32(labels.map { $0 ? 1 : 0 })))
        return batch
    }
}

extension ColumnData {
    /// The given rows, in that order.
    func selecting(rows: [Int]) -> ColumnData {
        let nulls = self.nulls.map { n in rows.map { n[$0] } }
        switch values {
        case .boolean(let v): return ColumnData(.boolean(rows.map { v[$0] }), nulls: nulls)
        case .int32(let v): return ColumnData(.int32(rows.map { v[$0] }), nulls: nulls)
        case .int64(let v): return ColumnData(.int64(rows.map { v[$0] }), nulls: nulls)
        case .float(let v): return ColumnData(.float(rows.map { v[$0] }), nulls: nulls)
        case .double(let v): return ColumnData(.double(rows.map { v[$0] }), nulls: nulls)
        case .byteArray(let v): return ColumnData(.byteArray(rows.map { v[$0] }), nulls: nulls)
        }
    }
}
