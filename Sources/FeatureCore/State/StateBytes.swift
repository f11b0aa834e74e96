import FsmlCore

/// Why state bytes could not be read.
public struct StateDecodeError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// Writes the bytes of one entity state. Times are written relative to the state's latest event
/// (`lastTime`), which keeps them short.
public struct StateWriter {
    public private(set) var bytes: [UInt8] = []
    public var lastTime: Micros

    public init(lastTime: Micros, capacity: Int = 64) {
        self.lastTime = lastTime
        bytes.reserveCapacity(capacity)
    }

    public mutating func byte(_ b: UInt8) { bytes.append(b) }
    /// Bytes written so far.
    public var count: Int { bytes.count }
    /// Overwrites a byte written before (a count known only after what follows it was written).
    public mutating func patch(_ b: UInt8, at i: Int) { bytes[i] = b }
    public mutating func varint(_ v: UInt64) { Varint.append(v, to: &bytes) }
    public mutating func zigzag(_ v: Int64) { Varint.appendZigzag(v, to: &bytes) }

    /// A 128-bit sum, zigzag then LEB128 (the bytes of `zigzag` for values that fit in 64 bits).
    public mutating func zigzag(_ v: WideSum) {
        var (high, low) = v.zigzag
        while high != 0 || low >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: low) | 0x80)
            low = (low >> 7) | (high << 57)
            high >>= 7
        }
        bytes.append(UInt8(low))
    }

    /// Eight bytes, little endian.
    public mutating func fixed64(_ v: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// A time at or before the state's latest event.
    public mutating func time(_ t: Micros) { zigzag(lastTime &- t) }
}

/// Reads what `StateWriter` wrote, refusing truncated and out-of-range input with an error
/// (states come from stores and files that another process may have damaged).
public struct StateReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    public var lastTime: Micros = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var remaining: Int { bytes.count - offset }

    public mutating func byte() throws(StateDecodeError) -> UInt8 {
        guard offset < bytes.count else { throw StateDecodeError("truncated state") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func varint() throws(StateDecodeError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw StateDecodeError("corrupt varint") }
            v |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    public mutating func zigzag() throws(StateDecodeError) -> Int64 { Varint.unzigzag(try varint()) }

    /// What `StateWriter.zigzag(_: WideSum)` wrote.
    public mutating func wideZigzag() throws(StateDecodeError) -> WideSum {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 128 else { throw StateDecodeError("corrupt varint") }
            let bits = UInt64(b & 0x7f)
            if shift < 64 {
                low |= bits << shift
                if shift > 57 { high |= bits >> (64 - shift) }
            } else {
                high |= bits << (shift - 64)
            }
            if b < 0x80 { return WideSum(zigzag: (high, low)) }
            shift += 7
        }
    }

    public mutating func fixed64() throws(StateDecodeError) -> UInt64 {
        guard remaining >= 8 else { throw StateDecodeError("truncated state") }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[offset + k]) << UInt64(8 * k) }
        offset += 8
        return v
    }

    /// A time written by `StateWriter.time`; a distance past 2^60 µs (36 000 years) is corruption.
    public mutating func time() throws(StateDecodeError) -> Micros {
        let d = try zigzag()
        guard d.magnitude < 1 << 60 else { throw StateDecodeError("corrupt state: time out of range") }
        return lastTime &- d
    }

    /// A count of items of `size` bytes each, refused when the rest of the bytes cannot hold them.
    public mutating func count(ofItemsOfSize size: Int) throws(StateDecodeError) -> Int {
        let n = try varint()
        guard n <= UInt64(remaining / size) else { throw StateDecodeError("truncated state") }
        return Int(n)
    }
}
