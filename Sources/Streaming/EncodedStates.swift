/// The encoded bytes of every entity state a stream job holds, kept current as states change:
/// a checkpoint writes these instead of encoding every state again, although most have not
/// changed since the last one (a job with 600 k states and a 5 s checkpoint interval spent a
/// fifth of its CPU re-encoding unchanged states).
struct EncodedStates {
    private var blobs: [[String: [UInt8]]]

    init(entityCount: Int) {
        blobs = Array(repeating: [:], count: entityCount)
    }

    /// Records a state's bytes; nil forgets a state the job no longer holds.
    mutating func set(entity e: Int, key: String, _ blob: [UInt8]?) {
        blobs[e][key] = blob
    }

    /// Forgets evicted states, per entity kind.
    mutating func remove(_ evicted: [[String]]) {
        for (e, keys) in evicted.enumerated() {
            for key in keys { blobs[e].removeValue(forKey: key) }
        }
    }

    var count: Int { blobs.reduce(0) { $0 + $1.count } }

    /// Every state's bytes, of the given entity kinds.
    func all(of kinds: [Int]) -> [(entity: Int, key: String, blob: [UInt8])] {
        var out: [(entity: Int, key: String, blob: [UInt8])] = []
        out.reserveCapacity(count)
        for e in kinds {
            for (key, blob) in blobs[e] { out.append((e, key, blob)) }
        }
        return out
    }
}
