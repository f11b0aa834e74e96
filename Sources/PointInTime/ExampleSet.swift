import FeatureCore
import FsmlCore

/// The rows a build evaluates (example events, or spine rows), held column by column: a build has
/// millions of them, and an array per row (its keys, its request fields) would be an allocation
/// and a reference count per row wherever a row is read.
struct ExampleSet: Sendable {
    /// Entity kinds per row (`keys` holds this many per row).
    let kinds: Int
    /// Request fields per row (`request` holds this many per row).
    let requestFields: Int
    private(set) var times: [Micros] = []
    /// The example event's arrival sequence, or the spine row's index.
    private(set) var sequences: [Int64] = []
    /// Per row, per entity kind: the key's id in the build's key tables, or -1.
    private(set) var keys: [Int32] = []
    /// Per row, the values of `engine.requestFields` on the example event, for derived features.
    private(set) var request: [FieldValue] = []

    init(kinds: Int, requestFields: Int) {
        self.kinds = kinds
        self.requestFields = requestFields
    }

    var count: Int { times.count }

    @inline(__always)
    func key(_ row: Int, entity e: Int) -> Int32 { keys[row * kinds + e] }

    @inline(__always)
    func field(_ row: Int, _ i: Int) -> FieldValue { request[row * requestFields + i] }

    mutating func reserveCapacity(_ n: Int) {
        times.reserveCapacity(n)
        sequences.reserveCapacity(n)
        keys.reserveCapacity(n * kinds)
        request.reserveCapacity(n * requestFields)
    }

    /// Adds a row; `keys` and `request` must hold `kinds` and `requestFields` values.
    mutating func append(time: Micros, sequence: Int64, keys: some Sequence<Int32>, request: some Sequence<FieldValue>)
    {
        times.append(time)
        sequences.append(sequence)
        self.keys.append(contentsOf: keys)
        self.request.append(contentsOf: request)
    }

    /// Per entity kind and key id, the last row that reads the key (-1 for none): after it, the
    /// key's state is never read again.
    func lastReads(keyCounts: [Int]) -> [[Int32]] {
        var last = keyCounts.map { [Int32](repeating: -1, count: $0) }
        for row in 0..<count {
            for e in 0..<kinds {
                let id = key(row, entity: e)
                if id >= 0 { last[e][Int(id)] = Int32(row) }
            }
        }
        return last
    }
}
