/// The encoded bytes of every entity state a stream job holds, kept current as states change:
/// a checkpoint writes these instead of encoding every state again, although most have not
/// changed since the last one (a job with 600 k states and a 5 s checkpoint interval spent a
/// fifth of its CPU re-encoding unchanged states).
///
/// By the ids the job's state table gives its keys (`StateTable`), so that recording a changed
/// state's bytes is an array store rather than a hash of its key.
struct EncodedStates {
    private var entries: [[(key: String, blob: [UInt8])?]]
    private(set) var count = 0

    init(entityCount: Int) {
        entries = Array(repeating: [], count: entityCount)
    }

    /// Records the bytes of the state with this id and key; nil forgets it.
    mutating func set(entity e: Int, id: Int32, key: String, _ blob: [UInt8]?) {
        let i = Int(id)
        if i >= entries[e].count {
            guard blob != nil else { return }
            entries[e].append(contentsOf: repeatElement(nil, count: i + 1 - entries[e].count))
        }
        count += (blob == nil ? 0 : 1) - (entries[e][i] == nil ? 0 : 1)
        entries[e][i] = blob.map { (key, $0) }
    }

    /// Forgets evicted states, per entity kind.
    mutating func remove(_ evicted: [[(id: Int32, key: String)]]) {
        for (e, states) in evicted.enumerated() {
            for (id, key) in states { set(entity: e, id: id, key: key, nil) }
        }
    }

    /// Every state's bytes, of the given entity kinds.
    func all(of kinds: [Int]) -> [(entity: Int, key: String, blob: [UInt8])] {
        var out: [(entity: Int, key: String, blob: [UInt8])] = []
        out.reserveCapacity(count)
        for e in kinds {
            for case (let key, let blob)? in entries[e] { out.append((e, key, blob)) }
        }
        return out
    }
}
