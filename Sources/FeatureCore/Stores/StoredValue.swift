import FsmlCore

/// The bytes stored per key: an 8-byte prefix that sorts like the event time (big-endian, sign bit
/// flipped), then the state. Comparing prefixes bytewise compares times, which is all the Redis
/// script needs.
public enum StoredValue {
    public static func encode(lastTime: Micros, blob: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(8 + blob.count)
        appendPrefix(lastTime, to: &out)
        out.append(contentsOf: blob)
        return out
    }

    /// Appends the 8 bytes that sort like `lastTime`.
    public static func appendPrefix(_ lastTime: Micros, to out: inout [UInt8]) {
        let ordered = UInt64(bitPattern: lastTime) ^ (1 << 63)
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: ordered >> UInt64(shift)))
        }
    }

    /// The state blob of a stored value (nil when it is too short to be one).
    public static func blob(_ value: [UInt8]) -> [UInt8]? { value.count >= 8 ? Array(value[8...]) : nil }

    public static func lastTime(_ value: [UInt8]) -> Micros? {
        guard value.count >= 8 else { return nil }
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(value[k]) }
        return Micros(bitPattern: v ^ (1 << 63))
    }

    /// Keeps, per key, only the record with the latest event time (the last one on ties).
    public static func latestPerKey(_ records: [StateRecord]) -> [StateRecord] {
        struct Key: Hashable {
            let entity: Int
            let key: String
        }
        var best: [Key: Int] = [:]
        best.reserveCapacity(records.count)
        var out: [StateRecord] = []
        out.reserveCapacity(records.count)
        for r in records {
            let k = Key(entity: r.entity, key: r.key)
            if let i = best[k] {
                if r.lastTime >= out[i].lastTime { out[i] = r }
            } else {
                best[k] = out.count
                out.append(r)
            }
        }
        return out
    }

    /// Event times a stored state can hold (beyond ±2^58 µs, about 9,000 years, is corruption).
    public static let timeBound: Micros = 1 << 58

    /// A stored clock, or nil when it is beyond any event time (a corrupt or foreign value).
    public static func plausibleClock(_ t: Micros) -> Micros? { t > -timeBound && t < timeBound ? t : nil }

    /// Whether stored bytes can be a state: a time within bounds, then a state of a known format
    /// version. What is not is replaced by the next write whatever its time, so that a corrupt
    /// value (eight 0xff bytes, say) never wins event-time-wins forever.
    public static func isPlausible(_ value: [UInt8], stateVersion: UInt8) -> Bool {
        guard value.count >= 9, let t = lastTime(value) else { return false }
        return t > -timeBound && t < timeBound && value[8] == stateVersion
    }
}
