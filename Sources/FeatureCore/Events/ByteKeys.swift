/// A short list of byte strings (an object's keys, an enumeration's values) matched against bytes
/// of a line. Each is held as its length and its first sixteen bytes in two words, with masks that
/// keep as many bytes of a word loaded from the line as the key has there: almost every comparison
/// is a load, a mask and a compare or two, without a call or a loop.
struct ByteKeys: Sendable {
    private struct Entry: Sendable {
        var count: Int
        var head: UInt64
        var tail: UInt64
        var headMask: UInt64
        var tailMask: UInt64
    }

    private let entries: [Entry]
    /// The whole keys, read only past their sixteenth byte.
    private let bytes: [[UInt8]]

    init(_ keys: [[UInt8]]) {
        bytes = keys
        entries = keys.map { key in
            key.withUnsafeBytes { b in
                Entry(
                    count: key.count, head: ByteKeys.word(b, from: 0, readable: key.count),
                    tail: ByteKeys.word(b, from: 8, readable: key.count), headMask: ByteKeys.mask(key.count),
                    tailMask: ByteKeys.mask(key.count - 8))
            }
        }
    }

    var count: Int { entries.count }

    /// The length of key `k`.
    func length(_ k: Int) -> Int { entries[k].count }

    /// The index of the key equal to `key`, trying `hint` first and then the ones after it: keys
    /// usually come in the same order line after line. `readable` (at least `key.count`) is how
    /// many bytes may be read from `key`'s start, so that its words can be loaded whole.
    @inline(__always)
    func find(_ key: UnsafeRawBufferPointer, readable: Int, hint: Int) -> Int? {
        let n = entries.count
        var k = hint < n ? hint : 0
        for _ in 0..<n {
            if matches(k, key, readable: readable) { return k }
            k = k + 1 == n ? 0 : k + 1
        }
        return nil
    }

    /// Whether key `k` equals `key` (`readable` as in `find`).
    @inline(__always)
    func matches(_ k: Int, _ key: UnsafeRawBufferPointer, readable: Int) -> Bool {
        let e = entries[k]
        guard e.count == key.count else { return false }
        guard readable >= 16 else { return matchesNearTheEnd(k, key, readable: readable) }
        let base = key.baseAddress!
        guard UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)) & e.headMask == e.head else { return false }
        if e.count <= 8 { return true }
        guard UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) & e.tailMask == e.tail
        else { return false }
        return e.count <= 16 || matchesPast16(k, key)
    }

    /// `matches` where a whole word cannot be loaded.
    private func matchesNearTheEnd(_ k: Int, _ key: UnsafeRawBufferPointer, readable: Int) -> Bool {
        entries[k].head == ByteKeys.word(key, from: 0, readable: readable)
            && entries[k].tail == ByteKeys.word(key, from: 8, readable: readable) && matchesPast16(k, key)
    }

    private func matchesPast16(_ k: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let whole = bytes[k]
        for i in 16..<max(16, key.count) where whole[i] != key[i] { return false }
        return true
    }

    /// Keeps the low `count` bytes of a word (none when `count` ≤ 0, all from 8).
    private static func mask(_ count: Int) -> UInt64 {
        count >= 8 ? .max : count <= 0 ? 0 : (1 &<< UInt64(count &* 8)) &- 1
    }

    /// The bytes of `b` from `start` up to `start + 8` or its end, as a little-endian word padded
    /// with zeros; `readable` bytes from `b`'s start may be loaded although only `b.count` count.
    @inline(__always)
    static func word(_ b: UnsafeRawBufferPointer, from start: Int, readable: Int) -> UInt64 {
        let count = min(b.count - start, 8)
        guard count > 0 else { return 0 }
        if start + 8 <= readable {
            let w = UInt64(littleEndian: b.baseAddress!.loadUnaligned(fromByteOffset: start, as: UInt64.self))
            return w & mask(count)
        }
        var w: UInt64 = 0
        for k in 0..<count { w |= UInt64(b[start + k]) &<< UInt64(8 * k) }
        return w
    }
}
