import FeatureCore
import FsmlCore

/// Entity states already decoded, by their stored bytes: a request whose state bytes are those of
/// an earlier request reuses that decoding (materializing a product's day of tiles costs more than
/// evaluating its features). Equal bytes decode to equal states, so a hit is always right, whatever
/// wrote the bytes; a changed state has new bytes and misses. Bounded by memory; when a shard is
/// full, an arbitrary entry of it makes room. Sharded so that event loops rarely wait on one
/// another; decoded states are only read, from any thread.
final class DecodedStateCache: @unchecked Sendable {
    /// Hashed once, over its ends: `[UInt8]`'s own hashing feeds the hasher a byte at a time, and
    /// a dictionary hashes a key on every lookup and insert, which cost more than the decoding
    /// saved. Hashing all of a state's bytes (kilobytes for a day of tiles) still cost more than
    /// the rest of the lookup; its length, its first bytes (its latest event time, to the
    /// microsecond) and its last ones tell states apart nearly as well, and a collision costs only
    /// a comparison. Equality still compares every byte (at once when both are the same array, as
    /// reads from memory are).
    struct Key: Hashable {
        let entity: Int
        let bytes: [UInt8]
        let hash: Int

        static let sampled = 64

        init(entity: Int, bytes: [UInt8]) {
            self.entity = entity
            self.bytes = bytes
            var hasher = Hasher()
            hasher.combine(entity)
            hasher.combine(bytes.count)
            bytes.withUnsafeBytes { all in
                if all.count <= 2 * Self.sampled {
                    hasher.combine(bytes: all)
                } else {
                    hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: all.prefix(Self.sampled)))
                    hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: all.suffix(Self.sampled)))
                }
            }
            hash = hasher.finalize()
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }

        static func == (a: Key, b: Key) -> Bool { a.hash == b.hash && a.entity == b.entity && a.bytes == b.bytes }
    }

    private struct Entry {
        let state: EntityState
        let bytes: Int
    }

    private final class Shard {
        let lock = NSLockLite()
        var entries: [Key: Entry] = [:]
        var held = 0
    }

    private static let shardCount = 16
    private let shards = (0..<DecodedStateCache.shardCount).map { _ in Shard() }
    private let shardBytes: Int

    init(maxBytes: Int = 64 << 20) { shardBytes = maxBytes / Self.shardCount }

    /// The bytes the cache accounts for now (for tests).
    var heldBytes: Int { shards.reduce(0) { total, s in total + s.lock.withLock { s.held } } }

    /// The state for `bytes`, decoded by `decode` only when no earlier request had the same bytes.
    func state<E: Error>(entity: Int, bytes: [UInt8], decode: () throws(E) -> EntityState) throws(E) -> EntityState {
        let key = Key(entity: entity, bytes: bytes)
        let shard = shards[Int(UInt(bitPattern: key.hash) % UInt(Self.shardCount))]
        if let hit = shard.lock.withLock({ shard.entries[key] }) { return hit.state }
        let state = try decode()
        let size = state.approximateBytes + bytes.count
        guard size <= shardBytes / 4 else { return state }
        shard.lock.withLock {
            while shard.held + size > shardBytes, let victim = shard.entries.first {
                shard.held -= victim.value.bytes
                shard.entries.removeValue(forKey: victim.key)
            }
            if shard.entries.updateValue(Entry(state: state, bytes: size), forKey: key) == nil { shard.held += size }
        }
        return state
    }
}
