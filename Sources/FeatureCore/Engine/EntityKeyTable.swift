import Foundation

/// The entity keys of one kind, each given a dense id that indexes the kind's states. Ids of
/// removed keys are reused. Open addressing with linear probing; a bucket holds an id and 32 bits
/// of its key's hash, so a lookup reads one bucket and then the text of the one key whose bits
/// match, almost always its own: one cache miss for the bucket, one for the key. Swift's
/// `Dictionary<String, _>` would run SipHash over the text and move the states on every growth.
///
/// The hash is seeded per process, like Swift's own, so that keys chosen by whoever sends the
/// events cannot be made to collide on purpose across runs.
public struct EntityKeyTable: Sendable {
    /// Each id's key ("" once removed, until the id is reused).
    public private(set) var keys: [String] = []
    /// Whether each id holds a key now.
    public private(set) var live: [Bool] = []
    private var hashes: [UInt64] = []
    private var free: [Int32] = []
    /// By hash position: the hash's high 32 bits over an id's 32 (`entry`), or `empty`. A power of
    /// two, at most half full.
    private var buckets = [UInt64](repeating: empty, count: 16)
    private static let empty = UInt64.max
    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000

    @inline(__always)
    private static func entry(_ id: Int32, hash: UInt64) -> UInt64 {
        hash & tagMask | UInt64(UInt32(bitPattern: id))
    }
    public private(set) var count = 0

    public init() {}

    private static let seed = UInt64.random(in: .min ... .max) | 1

    /// The id of `key`, if present.
    @inline(__always)
    public func find(_ key: String, hash: UInt64) -> Int32? { probe(hash) { keys[Int($0)] == key } }

    /// The id of the key whose text is `bytes` (UTF-8), if present: `find` without making the text.
    @inline(__always)
    public func find(bytes: UnsafeRawBufferPointer, hash: UInt64) -> Int32? {
        probe(hash) { id in
            var key = keys[Int(id)]
            return key.withUTF8 {
                $0.count == bytes.count
                    && (bytes.isEmpty || memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
            }
        }
    }

    /// The probe run of `hash`: the first id whose hash bits match and whose key `isKey` accepts.
    @inline(__always)
    private func probe(_ hash: UInt64, isKey: (Int32) -> Bool) -> Int32? {
        let mask = buckets.count - 1
        let tag = hash & Self.tagMask
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let b = buckets[i]
            if b == Self.empty { return nil }
            if b & Self.tagMask == tag && isKey(Int32(truncatingIfNeeded: b)) { return Int32(truncatingIfNeeded: b) }
            i = (i + 1) & mask
        }
    }

    /// The id of the key whose text is `bytes`, added when absent (its text made then).
    @inline(__always)
    public mutating func id(bytes: UnsafeRawBufferPointer, hash: UInt64) -> (id: Int32, added: Bool) {
        if let id = find(bytes: bytes, hash: hash) { return (id, false) }
        return (insert(String(decoding: bytes, as: UTF8.self), hash: hash), true)
    }

    /// Reads the bucket where a lookup of `hash` starts, and returns it: a caller about to look
    /// up many keys touches all their buckets first, so that their cache misses overlap.
    @inline(__always)
    public func touch(hash: UInt64) -> UInt64 { buckets[Int(truncatingIfNeeded: hash) & (buckets.count - 1)] }

    /// The id in the bucket where a lookup of `hash` starts when its hash bits match: most often
    /// the id that the lookup will find, whose key and state a caller can touch ahead.
    @inline(__always)
    public func candidate(hash: UInt64) -> Int32? {
        let b = buckets[Int(truncatingIfNeeded: hash) & (buckets.count - 1)]
        return b != Self.empty && b & Self.tagMask == hash & Self.tagMask ? Int32(truncatingIfNeeded: b) : nil
    }

    /// Reads the text of the key with this id (its length), for the same reason as `touch`.
    @inline(__always)
    public func touch(id: Int32) -> Int { keys[Int(id)].utf8.count }

    /// The id of `key`, added when absent (`added` says which).
    @inline(__always)
    public mutating func id(_ key: String, hash: UInt64) -> (id: Int32, added: Bool) {
        if let id = find(key, hash: hash) { return (id, false) }
        return (insert(key, hash: hash), true)
    }

    private mutating func insert(_ key: String, hash: UInt64) -> Int32 {
        if (count + 1) * 2 > buckets.count { grow() }
        let id: Int32
        if let reused = free.popLast() {
            id = reused
            keys[Int(id)] = key
            hashes[Int(id)] = hash
            live[Int(id)] = true
        } else {
            id = Int32(keys.count)
            keys.append(key)
            hashes.append(hash)
            live.append(true)
        }
        place(id)
        count += 1
        return id
    }

    private mutating func place(_ id: Int32) {
        let mask = buckets.count - 1
        var i = Int(truncatingIfNeeded: hashes[Int(id)]) & mask
        while buckets[i] != Self.empty { i = (i + 1) & mask }
        buckets[i] = Self.entry(id, hash: hashes[Int(id)])
    }

    private mutating func grow() {
        buckets = [UInt64](repeating: Self.empty, count: buckets.count * 2)
        for id in keys.indices where live[id] { place(Int32(id)) }
    }

    /// Removes the key with this id; the id may be handed out again.
    public mutating func remove(id: Int32) {
        let mask = buckets.count - 1
        var i = Int(truncatingIfNeeded: hashes[Int(id)]) & mask
        let target = Self.entry(id, hash: hashes[Int(id)])
        while buckets[i] != target { i = (i + 1) & mask }
        // Backward-shift deletion: later entries of the probe run move up, so lookups never need
        // tombstones.
        var hole = i
        var j = (i + 1) & mask
        while buckets[j] != Self.empty {
            let home = Int(truncatingIfNeeded: hashes[Int(Int32(truncatingIfNeeded: buckets[j]))]) & mask
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            if (j > hole && (home <= hole || home > j)) || (j < hole && home <= hole && home > j) {
                buckets[hole] = buckets[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        buckets[hole] = Self.empty
        keys[Int(id)] = ""
        live[Int(id)] = false
        free.append(id)
        count -= 1
    }

    @inline(__always)
    public static func hash(_ key: String) -> UInt64 {
        if let h = key.utf8.withContiguousStorageIfAvailable({ hash(bytes: UnsafeRawBufferPointer($0)) }) { return h }
        return Array(key.utf8).withUnsafeBytes { hash(bytes: $0) }
    }

    /// Eight bytes at a time, each word multiplied in; a murmur finalizer spreads the result.
    @inline(__always)
    public static func hash(bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = seed ^ (UInt64(bytes.count) &* 0x9e37_79b9_7f4a_7c15)
        var i = 0
        while i + 8 <= bytes.count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xff51_afd7_ed55_8ccd
            h ^= h >> 29
            i += 8
        }
        if i < bytes.count {
            var tail: UInt64 = 0
            for k in i..<bytes.count { tail |= UInt64(bytes[k]) << UInt64(8 * (k - i)) }
            h = (h ^ tail) &* 0xff51_afd7_ed55_8ccd
        }
        h = (h ^ (h >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return h ^ (h >> 33)
    }
}
