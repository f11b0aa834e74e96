import FsmlCore

/// What the engine keeps for one entity: the time of its latest event and the partials of every
/// slot of its entity plan, in one allocation (`StateStorage`). Serializable (`StateCodec`), so
/// the online store holds it as one blob and the server evaluates it as of the request time.
///
/// A value type: copies share storage, and `makeUnique` copies shared storage before it is
/// changed, as the standard library's collections do. So no storage is written while another
/// state (or thread) can see it, which is what makes the state `Sendable`.
public struct EntityState: @unchecked Sendable, Equatable {
    /// The latest event time folded in; `.min` for a state that has seen nothing.
    public internal(set) var lastTime: Micros
    /// nil only for the placeholder a table keeps where an id has no state.
    var storage: StateStorage?

    public var isEmpty: Bool { lastTime == .min }

    /// About how many bytes the state holds (for caches that bound their memory).
    public var approximateBytes: Int { 64 + 8 * (storage?.layout.words ?? 0) }

    /// Copies the storage when another state shares it, before it is changed.
    @inline(__always)
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage!.copy() }
    }

    /// Calls `body` with the state's words, made unique first.
    @inline(__always)
    mutating func withMutableWords<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        makeUnique()
        return try storage!.withWords(body)
    }

    /// Reads the words at `offsets` (bytes into the storage: where its slots start, known from
    /// the entity plan so that no read waits on another) and returns their sum: a caller about to
    /// fold into many states touches them all first, so that their cache misses overlap.
    @inline(__always)
    func touch(_ offsets: UnsafeBufferPointer<Int>) -> UInt64 {
        guard let storage else { return 0 }
        return storage.withWords { words in
            var sum: UInt64 = 0
            for offset in offsets { sum &+= words.load(fromByteOffset: offset, as: UInt64.self) }
            return sum
        }
    }

    public static func == (a: EntityState, b: EntityState) -> Bool {
        guard a.lastTime == b.lastTime else { return false }
        switch (a.storage, b.storage) {
        case (nil, nil): return true
        case (let x?, let y?): return x === y || x.isEqual(to: y)
        default: return false
        }
    }
}
