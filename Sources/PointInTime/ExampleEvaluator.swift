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
/// the builder's thread meanwhile reads the next chunk and labels the previous one. The entity kinds
/// are split among shards, one thread each (an entity's state depends only on its own events); a
/// shard reads the aggregate features of its kinds, and `Pending.wait` joins them and evaluates the
/// derived features. Chunks are folded in the order they are submitted, so the states and values
/// are those of a single-threaded replay.
final class ExampleEvaluator: @unchecked Sendable {
    private let engine: FeatureEngine
    private let features: [Int]
    private let examples: [DatasetBuilder.Example]
    /// Where each request field sits in `Example.request`, by schema index.
    private let requestPosition: [Int: Int]
    private let shards: [Shard]
    private let featureCount: Int

    private struct Shard {
        /// The aggregate features of these kinds, by feature index.
        let aggregates: [Int]
        let states: StateTable
        let worker: SerialWorker
    }

    /// `keys`: per entity kind, the keys the examples name (`Example.keys` are their ids). The
    /// state tables keep these ids, so an example reads its states without hashing a key.
    /// `threads`: how many shards (at most one per entity kind).
    init(
        engine: FeatureEngine, features: [Int], examples: [DatasetBuilder.Example], keys: [EntityKeyTable],
        threads: Int
    ) {
        self.engine = engine
        self.features = features
        self.examples = examples
        requestPosition = Dictionary(uniqueKeysWithValues: engine.requestFields.enumerated().map { ($1, $0) })
        let registry = engine.registry
        featureCount = registry.features.count
        // Kinds by their slot count, largest first, each to the shard with the fewest slots so far.
        var groups = [[Int]](repeating: [], count: max(1, min(threads, engine.entities.count)))
        var load = [Int](repeating: 0, count: groups.count)
        for e in engine.entities.indices.sorted(by: {
            engine.entities[$0].slots.count > engine.entities[$1].slots.count
        }) {
            let g = load.indices.min { load[$0] < load[$1] }!
            groups[g].append(e)
            load[g] += engine.entities[e].slots.count + 1
        }
        shards = groups.enumerated().map { i, kinds in
            Shard(
                aggregates: registry.features.indices.filter {
                    engine.isAggregate($0) && kinds.contains(registry.features[$0].entity)
                },
                states: StateTable(engine: engine, keys: keys, entityKinds: kinds),
                worker: SerialWorker(name: "fsml-build-fold-\(i)"))
        }
    }

    deinit { for shard in shards { shard.worker.stop() } }

    /// The values of a submitted chunk's examples, once every shard has them.
    struct Pending {
        fileprivate let evaluator: ExampleEvaluator
        fileprivate let chunk: ReplayChunk
        fileprivate let parts: [Promise<[[Double]]>]

        /// The values of `chunk.examples`, in order, one per feature of the build.
        func wait() throws -> [[Double]] {
            try evaluator.join(chunk, try parts.map { try $0.wait() })
        }
    }

    /// Queues a chunk on every shard.
    func submit(_ chunk: ReplayChunk) throws -> Pending {
        let parts = try shards.map { shard in
            let promise = Promise<[[Double]]>()
            try shard.worker.submit { [self] in promise.fulfill(.success(run(chunk, on: shard))) }
            return promise
        }
        return Pending(evaluator: self, chunk: chunk, parts: parts)
    }

    private func run(_ chunk: ReplayChunk, on shard: Shard) -> [[Double]] {
        var values: [[Double]] = []
        values.reserveCapacity(chunk.examples.count)
        var next = chunk.firstExample
        let events = chunk.events
        var i = events.startIndex
        while i < events.endIndex {
            while next < chunk.evaluateUntil[i] {
                values.append(aggregates(examples[next], shard))
                next += 1
            }
            // The events up to the next example to evaluate or the next tidying, folded as a batch.
            var end = i + 1
            while end < events.endIndex && chunk.evaluateUntil[end] <= next && !chunk.tidies[end - 1] { end += 1 }
            shard.states.fold(count: end - i) { [i] in events[i + $0].event }
            if chunk.tidies[end - 1] { shard.states.evictExpired(watermark: chunk.settled[end - 1]) }
            i = end
        }
        while next < (chunk.evaluateAfter ?? next) {
            values.append(aggregates(examples[next], shard))
            next += 1
        }
        return values
    }

    /// The shard's aggregate features for one example, in `shard.aggregates` order.
    private func aggregates(_ x: DatasetBuilder.Example, _ shard: Shard) -> [Double] {
        let rowStates = x.keys.indices.map { e in
            // Kinds the shard does not fold hold no state, so they read as nil like a missing key.
            x.keys[e] < 0 ? nil : shard.states.state(entity: e, id: x.keys[e])
        }
        return engine.values(features: shard.aggregates, states: rowStates, fields: { _ in .missing }, asOf: x.time)
    }

    /// Every shard's aggregates of a chunk's examples joined, then the build's features of each.
    private func join(_ chunk: ReplayChunk, _ parts: [[[Double]]]) -> [[Double]] {
        var all = [Double](repeating: .nan, count: featureCount)
        return chunk.examples.enumerated().map { k, n in
            for (shard, part) in zip(shards, parts) {
                for (j, f) in shard.aggregates.enumerated() { all[f] = part[k][j] }
            }
            let x = examples[n]
            return features.map { f in
                engine.value(
                    feature: f, aggregates: { all[$0] },
                    fields: { i in requestPosition[i].map { x.request[$0] } ?? .missing }, asOf: x.time)
            }
        }
    }
}
