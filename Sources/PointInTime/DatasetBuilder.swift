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
    /// Labelled builds: how many entity-hash partitions to build one after the other (each holds
    /// its own examples, keys and states; rows are merged in order at the end). Nil: as many as
    /// `memoryBudget` needs. Any number gives the same dataset, byte for byte.
    public var partitions: Int?
    /// Labelled builds: the memory a partition may hold, in bytes (estimated from the store's
    /// rows), when `partitions` is nil. By default half of what the process may use
    /// (`defaultMemoryBudget`).
    public var memoryBudget = BuildOptions.defaultMemoryBudget

    /// Half of the machine's memory, or of its container's limit: the rest is left to the output's
    /// writer, the page cache and whatever else runs. (DuckDB takes 80 % by default; Spark's
    /// executors are sized by hand.)
    public static var defaultMemoryBudget: Int { max(1 << 30, availableMemoryBytes() / 2) }

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
    /// The entity-hash partitions a labelled build was made in (1: none).
    public var partitions = 1
}

/// Builds point-in-time training sets from the offline store, through the same engine the stream
/// job and the server use (no feature is implemented twice).
///
/// With the registry's label: every example event with time t in the range becomes a
/// row holding the example event's fields, every served feature as of t, and the label. Pass 1
/// (`ExampleFinder`) finds the examples (time, sequence, entity keys) and their labels, and leaves
/// out the immature ones. Pass 2 replays the store in arrival order through a `StateTable`: an
/// example is evaluated once the replay's clock reaches t (before any event known at or after t is
/// folded, so late events count as the server saw them); its row is written once the replay has
/// also met its event. Rows come out in time order; memory holds the examples, the states of keys
/// still to be read and about a lateness's worth of rows, not the events.
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

    /// How far behind the clock an admitted event can arrive: the allowed lateness, or more when a
    /// partitioned source (Kafka) let a slow partition's events in later (the store's state says).
    func replayLateness() throws -> Micros {
        try store.statePaths.reduce(registry.allowedLateness) {
            max($0, try IntakeState.load(path: $1)?.admission.maxLag ?? 0)
        }
    }

    public func buildExamples(into writer: DatasetWriter) throws -> BuildReport {
        guard let labelSpec = registry.label else {
            throw BuildError(
                description:
                    "\(registry.source) declares no label; give --spine to compute features for given keys and times")
        }
        let labels = LabelRule(spec: labelSpec)
        let files = try store.files()
        let count =
            try options.partitions ?? EntityPartition.count(rows: Self.rows(files), budget: options.memoryBudget)
        if count > 1, let field = EntityPartition.field(engine: engine) {
            return try buildPartitioned(labels: labels, files: files, field: field, count: count, into: writer)
        }
        let output = RowBuffer(columns: exampleColumns, features: features.count, writer: writer)
        let report = try buildRows(labels: labels, files: files, partition: nil, output: output)
        try output.finish()
        return report
    }

    /// The rows of the store's files, from their footers.
    static func rows(_ files: [OfflineStore.DataFile]) throws -> Int {
        try files.reduce(0) { $0 + (try ParquetReader(path: $1.path).numRows) }
    }

    /// The rows of one partition's examples (all examples without one), in order, to `output`.
    func buildRows(
        labels: LabelRule, files: [OfflineStore.DataFile], partition: EntityPartition?, output: RowBuffer
    ) throws -> BuildReport {
        var report = BuildReport()
        report.features = features
        // Pass 1: the examples, their keys and their labels; only mature examples go on.
        report.files = files
        let lateness = try replayLateness()
        var finder = ExampleFinder(engine: engine, labels: labels, options: options)
        finder.partition = partition
        var found = try finder.find(files: files) { $0 - lateness }
        progress?.update(found.eventsRead, detail: "found examples")
        report.examples = found.total
        report.immature = found.total - found.examples.count
        report.settledUntil = found.lastKnown == .min ? nil : found.lastKnown - lateness
        let examples = found.examples
        let exampleLabels = found.labels
        let arrivals = found.arrivals
        let evaluator = ExampleEvaluator(
            engine: engine, features: features, examples: examples, keys: found.keys, threads: threads,
            partitionField: partition?.field)
        found = ExampleFinder.Found(examples: ExampleSet(kinds: 0, requestFields: 0), labels: [], keys: [])

        // Pass 2: replay and evaluate; each row is written once its values and its event's fields
        // are in. The replay meets the example events in time order, or by event time only, in
        // (time, sequence) order, which is the examples' own; as known, in arrival order.
        var replay = Replay(
            scanner: try OfflineStoreScanner(files: files, schema: registry.schema),
            eventTimeOnly: options.eventTimeOnly, lateness: lateness)
        let metOrder =
            options.eventTimeOnly
            ? Array(0..<examples.count)
            : arrivals.isEmpty
                ? (0..<examples.count).sorted { examples.sequences[$0] < examples.sequences[$1] }
                // A group's members: the scanner's merge order, by known-at time, then member.
                : (0..<examples.count).sorted {
                    (arrivals[$0], examples.sequences[$0]) < (arrivals[$1], examples.sequences[$1])
                }
        var met = 0
        var rows = RowAssembler(width: features.count)
        try replayInChunks(
            &replay, examples: examples, evaluator: evaluator, stopWhenEvaluated: false, partition: partition,
            metOrder: metOrder
        ) {
            chunk, values, eventsRead in
            rows.addValues(values)
            // The chunk says which of its events are examples' (met in `metOrder`, as here).
            for (i, k) in chunk.exampleOf.enumerated() where k >= 0 {
                rows.setContext(Int(k), chunk.events[i].event.values)
                met += 1
            }
            try rows.takeComplete { k, context, values in
                let label = exampleLabels[k]
                if label { report.positives += 1 }
                try output.append(
                    context: context, features: values, label: label, time: examples.times[k],
                    sequence: examples.sequences[k])
            }
            progress?.update(eventsRead, detail: "\(Progress.count(rows.next)) rows")
        }
        guard met == metOrder.count && rows.next == examples.count else {
            throw BuildError(
                description: "the replay met \(met) of \(examples.count) example events (the store changed?)")
        }
        report.rows = examples.count
        report.firstExample = examples.times.first
        report.lastExample = examples.times.last
        report.eventsReplayed = replay.eventsRead
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
        var examples = ExampleSet(kinds: engine.entities.count, requestFields: requestFields.count)
        examples.reserveCapacity(order.count)
        for row in order {
            examples.append(
                time: spine.times[row], sequence: Int64(row),
                keys: engine.entities.indices.lazy.map { e in
                    // A spine made in code may name fewer entity kinds than the registry has.
                    guard e < spine.keys.count, let key = spine.keys[e][row] else { return -1 }
                    return keyTables[e].id(key, hash: EntityKeyTable.hash(key)).id
                },
                request: requestFields.lazy.map { spine.field($0, row: row) })
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
            for (j, k) in chunk.examples.enumerated() {
                results[order[k]] = Array(values[j * features.count..<(j + 1) * features.count])
            }
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
        _ replay: inout Replay, examples: ExampleSet, evaluator: ExampleEvaluator, stopWhenEvaluated: Bool,
        partition: EntityPartition? = nil, metOrder: [Int]? = nil,
        consume: (_ chunk: ReplayChunk, _ values: [Double], _ eventsRead: Int) throws -> Void
    ) throws {
        var next = 0
        var met = 0
        var ended = false
        var inFlight: (chunk: ReplayChunk, values: ExampleEvaluator.Pending)?
        while true {
            var chunk = ReplayChunk(firstExample: next)
            while !ended && chunk.events.count < chunkEvents {
                guard let (stored, progressValue) = try replay.next() else {
                    ended = true
                    break
                }
                while next < examples.count && examples.times[next] <= progressValue { next += 1 }
                if stopWhenEvaluated && next == examples.count {
                    ended = true
                } else {
                    if let partition { chunk.inPartition.append(partition.contains(stored.event)) }
                    // The replay meets the example events in `metOrder` (as the rows are joined).
                    if let metOrder {
                        if met < metOrder.count && stored.sequence == examples.sequences[metOrder[met]] {
                            chunk.exampleOf.append(Int32(metOrder[met]))
                            met += 1
                        } else {
                            chunk.exampleOf.append(-1)
                        }
                    }
                    // Last: the event moves into the chunk (a later read would retain it).
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
