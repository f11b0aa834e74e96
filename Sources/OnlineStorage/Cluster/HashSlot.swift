/// Which of Redis Cluster's 16384 hash slots a key belongs to: CRC16 (XMODEM) of the key, or of its
/// hash tag, modulo 16384. The hash tag is what lies between the first `{` and the next `}` when
/// that is not empty; it lets several keys share a slot (and so a node, and one script call).
/// The rule is Redis's own (cluster-spec "Hash tags"); a client that hashed differently would send
/// every key to the wrong node and live on MOVED replies.
public enum HashSlot {
    public static let count = 16_384

    public static func of(_ key: [UInt8]) -> Int { of(key[...]) }

    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    public static func of(_ key: ArraySlice<UInt8>) -> Int {
        Int(crc16(hashed(key)) & UInt16(count - 1))
    }

    /// The key as written `prefix` + `rest`, without joining them (the store's keys are built so).
    public static func of(prefix: [UInt8], _ rest: String) -> Int {
        // Only a `{` in the prefix can start a tag; the shop's prefixes have none, so the common
        // path hashes the two parts in sequence.
        if prefix.contains(UInt8(ascii: "{")) || rest.utf8.contains(UInt8(ascii: "{")) {
            return of(prefix + Array(rest.utf8))
        }
        var crc = crc16(prefix[...])
        for b in rest.utf8 { crc = step(crc, b) }
        return Int(crc & UInt16(count - 1))
    }

    /// The part of `key` that is hashed: its tag when it has a non-empty one, else all of it.
    public static func hashed(_ key: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key }
        let afterOpen = key.index(after: open)
        guard let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close > afterOpen else { return key }
        return key[afterOpen..<close]
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial 0, no reflection. "123456789" → 0x31C3.
    public static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for b in bytes { crc = step(crc, b) }
        return crc
    }

    @inline(__always)
    static func step(_ crc: UInt16, _ byte: UInt8) -> UInt16 {
        (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
    }

    private static let table: [UInt16] = (0..<256).map { i in
        var c = UInt16(i) << 8
        for _ in 0..<8 { c = c & 0x8000 != 0 ? (c << 1) ^ 0x1021 : c << 1 }
        return c
    }
}
