/// The encoded bytes of every entity state a stream job holds, kept current as states change:
/// a checkpoint writes these instead of encoding every state again, although most have not
/// changed since the last one (a job with 600 k states and a 5 s checkpoint interval spent a
/// fifth of its CPU re-encoding unchanged states).
///
/// By the ids the job's state table gives its keys (`StateTable`), so that recording a changed
/// state's bytes is an array store rather than a hash of its key.
struct EncodedStates: CheckpointStates {
    private var entries: [[(key: String, blob: [UInt8])?]]
    private(set) var count = 0
    /// The bytes of the states, and of their keys.
    private(set) var stateBytes = 0
    private var keyBytes = 0
    var byteCount: Int { stateBytes + keyBytes }

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
        if let old = entries[e][i] {
            count -= 1
            keyBytes -= old.key.utf8.count
            stateBytes -= old.blob.count
        }
        if let blob {
            count += 1
            keyBytes += key.utf8.count
            stateBytes += blob.count
        }
        entries[e][i] = blob.map { (key, $0) }
    }

    /// Forgets evicted states, per entity kind.
    mutating func remove(_ evicted: [[(id: Int32, key: String)]]) {
        for (e, states) in evicted.enumerated() {
            for (id, key) in states { set(entity: e, id: id, key: key, nil) }
        }
    }

    /// Calls `body` with every state's entity kind, key and bytes.
    func forEach(_ body: (Int, String, [UInt8]) -> Void) {
        for e in entries.indices {
            entries[e].withUnsafeBufferPointer { held in
                for i in held.indices {
                    if let entry = held[i] { body(e, entry.key, entry.blob) }
                }
            }
        }
    }
}
