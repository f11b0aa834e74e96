/// A 64-bit hash that is the same in every process and on every machine (Swift's `Hasher` is
/// seeded per process). Used where hashes are stored or compared across runs: distinct-count
/// sets in serialized entity state, tie-breaks, definition fingerprints.
public enum StableHash {
    /// FNV-1a over the bytes, then a murmur-style finalizer so that short, similar ids spread over
    /// all 64 bits.
    @inlinable
    public static func hash<C: Collection>(bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return mix(h)
    }

    @inlinable
    public static func hash(_ s: String) -> UInt64 {
        var s = s
        return s.withUTF8 { hash(bytes: $0) }
    }

    @inlinable
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 33)) &* 0xff51_afd7_ed55_8ccd
        z = (z ^ (z >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return z ^ (z >> 33)
    }

    /// Combines hashes in order (for composite keys and fingerprints).
    @inlinable
    public static func combine(_ a: UInt64, _ b: UInt64) -> UInt64 {
        mix(a ^ (b &+ 0x9e37_79b9_7f4a_7c15 &+ (a << 6) &+ (a >> 2)))
    }

    public static func hex(_ h: UInt64) -> String {
        let s = String(h, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
