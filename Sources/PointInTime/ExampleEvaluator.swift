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

/// Folds a build's replay into entity state and evaluates its examples, on a thread of its own:
/// the builder's thread meanwhile reads the next chunk and labels the previous one. Chunks are
/// folded in the order they are submitted, so the states and values are those of a single-threaded
/// replay.
final class ExampleEvaluator: @unchecked Sendable {
    private let engine: FeatureEngine
    private let features: [Int]
    private let examples: [DatasetBuilder.Example]
    /// Where each request field sits in `Example.request`, by schema index.
    private let requestPosition: [Int: Int]
    private let states: StateTable
    private let worker = SerialWorker(name: "fsml-build-fold")

    /// `keys`: per entity kind, the keys the examples name (`Example.keys` are their ids). The
    /// state table keeps these ids, so an example reads its states without hashing a key.
    init(engine: FeatureEngine, features: [Int], examples: [DatasetBuilder.Example], keys: [EntityKeyTable]) {
        self.engine = engine
        self.features = features
        self.examples = examples
        requestPosition = Dictionary(uniqueKeysWithValues: engine.requestFields.enumerated().map { ($1, $0) })
        states = StateTable(engine: engine, keys: keys)
    }

    deinit { worker.stop() }

    /// Queues a chunk; the promise gives the values of `chunk.examples`, in order.
    func submit(_ chunk: ReplayChunk) throws -> Promise<[[Double]]> {
        let promise = Promise<[[Double]]>()
        try worker.submit { [self] in promise.fulfill(.success(run(chunk))) }
        return promise
    }

    private func run(_ chunk: ReplayChunk) -> [[Double]] {
        var values: [[Double]] = []
        values.reserveCapacity(chunk.examples.count)
        var next = chunk.firstExample
        for i in chunk.events.indices {
            while next < chunk.evaluateUntil[i] {
                values.append(evaluate(examples[next]))
                next += 1
            }
            states.fold(chunk.events[i].event)
            if chunk.tidies[i] { states.evictExpired(watermark: chunk.settled[i]) }
        }
        while next < (chunk.evaluateAfter ?? next) {
            values.append(evaluate(examples[next]))
            next += 1
        }
        return values
    }

    private func evaluate(_ x: DatasetBuilder.Example) -> [Double] {
        let rowStates = x.keys.indices.map { e in x.keys[e] < 0 ? nil : states.state(entity: e, id: x.keys[e]) }
        return engine.values(
            features: features, states: rowStates,
            fields: { i in requestPosition[i].map { x.request[$0] } ?? .missing }, asOf: x.time)
    }
}
