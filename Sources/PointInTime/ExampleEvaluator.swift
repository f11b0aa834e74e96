import FeatureCore
import FsmlCore
import OfflineStorage

/// A stretch of the replay handed to the `ExampleEvaluator`: events in fold order, and for each
/// event the examples to evaluate before folding it (those whose time the replay's progress has
/// reached) and whether expired states may be dropped after it.
struct ReplayChunk {
    /// The first example evaluated in this chunk, an index into the sorted examples.
    let firstExample: Int
    var events: [StoredEvent] = []
    /// Per event: the examples before this index are evaluated before it is folded.
    var evaluateUntil: [Int] = []
    /// Per event: what is settled once it is folded (the watermark for eviction and labels).
    var settled: [Micros] = []
    /// Per event: whether to drop expired states (and prune old outcomes) after it.
    var tidies: [Bool] = []
    /// In a partitioned build, per event: whether it is in the partition (kinds keyed by the
    /// partition's field fold no other). Empty otherwise.
    var inPartition: [Bool] = []
    /// In a labelled build, per event: the example it is the event of, or -1 (its keys' ids are
    /// then the example's, known without making the keys). Empty otherwise.
    var exampleOf: [Int32] = []
    /// The examples before this index are evaluated after the chunk's last event (at the end of
    /// the replay, or once the rest of it cannot matter).
    var evaluateAfter: Int?

    init(firstExample: Int) { self.firstExample = firstExample }

    mutating func append(_ event: StoredEvent, evaluateUntil: Int, settled: Micros, tidy: Bool) {
        events.append(event)
        self.evaluateUntil.append(evaluateUntil)
        self.settled.append(settled)
        tidies.append(tidy)
    }

    /// The examples evaluated in this chunk.
    var examples: Range<Int> { firstExample..<(evaluateAfter ?? evaluateUntil.last ?? firstExample) }
}

/// Folds a build's replay into entity state and evaluates its examples, on threads of their own:
/// the builder's thread meanwhile reads the next chunk and writes the previous one. The entity kinds
/// are split among shards, one thread each (an entity's state depends only on its own events); a
/// shard reads the aggregate features of its kinds, and `Pending.wait` joins them and evaluates the
/// derived features. Chunks are folded in the order they are submitted, so the states and values
/// are those of a single-threaded replay. A key's state is dropped once the last example that
/// reads it is evaluated (it would never be read again), so memory holds the keys still to come.
final class ExampleEvaluator: @unchecked Sendable {
    private let engine: FeatureEngine
    private let features: [Int]
    private let examples: ExampleSet
    /// By schema index: where the field sits among an example's request fields, or -1.
    private let requestPosition: [Int]
    private let shards: [Shard]
    private let featureCount: Int
    /// Per entity kind and key id, the last example that reads the key.
    private let lastReads: [[Int32]]
    /// Per entity kind, the keys the state tables hold (shared with them, not copied).
    private let keyTables: [EntityKeyTable]
    /// Events a shard folds at once at most: a fold is cheaper a batch at a time.
    static let foldBatch = StateTable.batch

    private struct Shard {
        let kinds: [Int]
        /// Whether every kind's key holds the partition's field: then the shard folds only the
        /// partition's events (no other event names its keys).
        let partitioned: Bool
        /// The aggregate features of these kinds, kind by kind (in `kinds` order), by feature index
        /// within a kind: the order of a shard's values per example.
        let aggregates: [Int]
        /// Per kind in `kinds`, its aggregate features, as in `aggregates`.
        let aggregatesOfKind: [[Int]]
        let states: StateTable
        let worker: SerialWorker
    }

    /// `keys`: per entity kind, the keys the examples name (`ExampleSet.keys` are their ids). The
    /// state tables keep these ids, so an example reads its states without hashing a key.
    /// `threads`: how many shards (at most one per entity kind). `partitionField`: the field of a
    /// partitioned build's partitions.
    init(
        engine: FeatureEngine, features: [Int], examples: ExampleSet, keys: [EntityKeyTable], threads: Int,
        partitionField: Int? = nil
    ) {
        self.engine = engine
        self.features = features
        self.examples = examples
        let registry = engine.registry
        var position = [Int](repeating: -1, count: registry.schema.fields.count)
        for (i, f) in engine.requestFields.enumerated() { position[f] = i }
        requestPosition = position
        featureCount = registry.features.count
        lastReads = examples.lastReads(keyCounts: keys.map(\.keys.count))
        keyTables = keys
        // Kinds by their slot count, largest first, each to the shard with the fewest slots so far.
        // In a partitioned build the kinds keyed by the partition's field (which fold a share of
        // the events) and the others (which fold them all) go to shards of their own.
        func keyedByPartition(_ e: Int) -> Bool {
            partitionField.map(engine.entities[e].keyMaker.fields.contains) ?? false
        }
        var groups = [[Int]](repeating: [], count: max(1, min(threads, engine.entities.count)))
        let split =
            groups.count >= 2 && partitionField != nil
            && Set(engine.entities.indices.map(keyedByPartition)).count == 2
        var load = [Int](repeating: 0, count: groups.count)
        for e in engine.entities.indices.sorted(by: {
            engine.entities[$0].slots.count > engine.entities[$1].slots.count
        }) {
            let candidates = split ? (keyedByPartition(e) ? [0] : Array(1..<groups.count)) : Array(groups.indices)
            let g = candidates.min { load[$0] < load[$1] }!
            groups[g].append(e)
            load[g] += engine.entities[e].slots.count + 1
        }
        groups.removeAll { $0.isEmpty }
        shards = groups.enumerated().map { i, kinds in
            let ofKind = kinds.map { e in
                registry.features.indices.filter { engine.isAggregate($0) && registry.features[$0].entity == e }
            }
            return Shard(
                kinds: kinds, partitioned: partitionField != nil && kinds.allSatisfy(keyedByPartition),
                aggregates: ofKind.flatMap { $0 }, aggregatesOfKind: ofKind,
                states: StateTable(engine: engine, keys: keys, entityKinds: kinds),
                worker: SerialWorker(name: "fsml-build-fold-\(i)"))
        }
    }

    deinit { for shard in shards { shard.worker.stop() } }

    /// The values of a submitted chunk's examples, once every shard has them.
    struct Pending {
        fileprivate let evaluator: ExampleEvaluator
        fileprivate let chunk: ReplayChunk
        fileprivate let parts: [Promise<[Double]>]

        /// The values of `chunk.examples`, in order: `features.count` per example, NaN for missing.
        func wait() throws -> [Double] {
            try evaluator.join(chunk, try parts.map { try $0.wait() })
        }
    }

    /// Queues a chunk on every shard.
    func submit(_ chunk: ReplayChunk) throws -> Pending {
        let parts = try shards.map { shard in
            let promise = Promise<[Double]>()
            try shard.worker.submit { [self] in promise.fulfill(.success(run(chunk, on: shard))) }
            return promise
        }
        return Pending(evaluator: self, chunk: chunk, parts: parts)
    }

    /// The shard's aggregates of the chunk's examples, `shard.aggregates.count` per example.
    ///
    /// An example is evaluated once the events before it are folded, before the ones after. Nearly
    /// every event of a labelled build is an example's, so folding exactly up to each example would
    /// fold one event at a time. Instead the events wait in a batch, with their keys' ids, and the
    /// batch is folded (in order) before an example whose keys one of them names, before a tidying
    /// and at the chunk's end: an entity's state depends on its own events alone, so an example
    /// reads the state it would read folding one by one, and the states come out the same.
    private func run(_ chunk: ReplayChunk, on shard: Shard) -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(chunk.examples.count * shard.aggregates.count)
        // Each kind's aggregates read its state in place: no copy of a state per row or feature.
        // What a row reads is in locals: a class's arrays would be retained at each read.
        let (kinds, states, examples, engine) = (shard.kinds, shard.states, examples, engine)
        let n = kinds.count
        let ofKind = shard.aggregatesOfKind.map { ContiguousArray($0) }
        let lastReadOfKind = kinds.map { lastReads[$0] }
        let tables = kinds.map { keyTables[$0] }
        let makers = kinds.map { engine.entities[$0].keyMaker }
        var place = [Int](repeating: -1, count: engine.entities.count)
        for (i, e) in kinds.enumerated() { place[e] = i }
        let events = chunk.events
        let exampleOf = chunk.exampleOf
        // The events folded next, and their keys' ids (`n` per event, by place in `kinds`; -1
        // for none or one the tables do not hold).
        var batch: [Int] = []
        var batchIds: [Int32] = []
        var keyBytes: [UInt8] = []
        batch.reserveCapacity(Self.foldBatch)
        batchIds.reserveCapacity(Self.foldBatch * n)
        func flush() {
            guard !batch.isEmpty else { return }
            states.fold(count: batch.count) { [batch] in
                events[batch[$0]].event
            } knownId: { [batchIds, place] j, e in
                batchIds[j * n + place[e]]
            }
            batch.removeAll(keepingCapacity: true)
            batchIds.removeAll(keepingCapacity: true)
        }
        func add(_ j: Int) {
            if !exampleOf.isEmpty && exampleOf[j] >= 0 {
                // An example's event: its keys' ids are the example's.
                for e in kinds { batchIds.append(examples.key(Int(exampleOf[j]), entity: e)) }
            } else {
                // Looked up by the key's bytes: no text is made for a key the tables may not hold.
                for i in 0..<n {
                    keyBytes.removeAll(keepingCapacity: true)
                    guard makers[i].write(events[j].event, into: &keyBytes) else {
                        batchIds.append(-1)
                        continue
                    }
                    batchIds.append(
                        keyBytes.withUnsafeBytes { tables[i].find(bytes: $0, hash: EntityKeyTable.hash(bytes: $0)) }
                            ?? -1)
                }
            }
            batch.append(j)
            if batch.count == Self.foldBatch { flush() }
        }
        func evaluate(_ k: Int) {
            // A waiting event of one of its keys is folded first.
            var waits = false
            for i in 0..<n where !waits {
                let id = examples.key(k, entity: kinds[i])
                guard id >= 0 else { continue }
                for b in stride(from: i, to: batchIds.count, by: n) where batchIds[b] == id {
                    waits = true
                    break
                }
            }
            if waits { flush() }
            let t = examples.times[k]
            for i in 0..<n {
                let e = kinds[i]
                let id = examples.key(k, entity: e)
                ofKind[i].withUnsafeBufferPointer {
                    states.appendValues(entity: e, id: id, features: $0, asOf: t, to: &values)
                }
                if id >= 0 && lastReadOfKind[i][Int(id)] == Int32(k) { states.retire(entity: e, id: id) }
            }
        }
        var next = chunk.firstExample
        let filtered = shard.partitioned && !chunk.inPartition.isEmpty
        for j in events.indices {
            while next < chunk.evaluateUntil[j] {
                evaluate(next)
                next += 1
            }
            if !filtered || chunk.inPartition[j] { add(j) }
            if chunk.tidies[j] {
                flush()
                states.evictExpired(watermark: chunk.settled[j])
            }
        }
        flush()
        while next < (chunk.evaluateAfter ?? next) {
            evaluate(next)
            next += 1
        }
        return values
    }

    /// Every shard's aggregates of a chunk's examples joined, then the build's features of each.
    private func join(_ chunk: ReplayChunk, _ parts: [[Double]]) -> [Double] {
        var all = [Double](repeating: .nan, count: featureCount)
        var out: [Double] = []
        out.reserveCapacity(chunk.examples.count * features.count)
        for (j, k) in chunk.examples.enumerated() {
            for (shard, part) in zip(shards, parts) {
                let width = shard.aggregates.count
                for (a, f) in shard.aggregates.enumerated() { all[f] = part[j * width + a] }
            }
            for f in features {
                if engine.isAggregate(f) {
                    out.append(all[f])
                } else {
                    out.append(
                        engine.value(
                            feature: f, aggregates: { all[$0] },
                            fields: { i in requestPosition[i] < 0 ? .missing : examples.field(k, requestPosition[i]) },
                            asOf: examples.times[k]))
                }
            }
        }
        return out
    }
}
