/// Snappy's raw block format (github.com/google/snappy format_description.txt), which Parquet's
/// SNAPPY codec uses: a varint of the uncompressed length, then literals and back-references.
enum Snappy {
    struct CorruptError: Error {}

    static func decompress(_ input: UnsafeRawBufferPointer) throws(CorruptError) -> [UInt8] {
        var i = 0
        var length: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < input.count, shift < 35 else { throw CorruptError() }
            let b = input[i]
            i += 1
            length |= UInt64(b & 0x7f) << shift
            if b < 0x80 { break }
            shift += 7
        }
        guard length <= 1 << 31 else { throw CorruptError() }
        var out = [UInt8](repeating: 0, count: Int(length))
        var o = 0
        try out.withUnsafeMutableBufferPointer { dst throws(CorruptError) in
            while i < input.count {
                let tag = input[i]
                i += 1
                switch tag & 3 {
                case 0:
                    var n = Int(tag >> 2)
                    if n >= 60 {
                        let extra = n - 59
                        guard i + extra <= input.count else { throw CorruptError() }
                        n = 0
                        for k in 0..<extra { n |= Int(input[i + k]) << (8 * k) }
                        i += extra
                    }
                    n += 1
                    guard i + n <= input.count, o + n <= dst.count else { throw CorruptError() }
                    for k in 0..<n { dst[o + k] = input[i + k] }
                    i += n
                    o += n
                    continue
                case 1:
                    guard i < input.count else { throw CorruptError() }
                    let n = Int((tag >> 2) & 7) + 4
                    let offset = Int(tag >> 5) << 8 | Int(input[i])
                    i += 1
                    try copy(dst, &o, offset: offset, length: n)
                case 2:
                    guard i + 2 <= input.count else { throw CorruptError() }
                    let offset = Int(input[i]) | Int(input[i + 1]) << 8
                    i += 2
                    try copy(dst, &o, offset: offset, length: Int(tag >> 2) + 1)
                default:
                    guard i + 4 <= input.count else { throw CorruptError() }
                    var offset = 0
                    for k in 0..<4 { offset |= Int(input[i + k]) << (8 * k) }
                    i += 4
                    try copy(dst, &o, offset: offset, length: Int(tag >> 2) + 1)
                }
            }
        }
        guard o == out.count else { throw CorruptError() }
        return out
    }

    @inline(__always)
    private static func copy(
        _ dst: UnsafeMutableBufferPointer<UInt8>, _ o: inout Int, offset: Int, length: Int
    ) throws(CorruptError) {
        guard offset > 0, offset <= o, o + length <= dst.count else { throw CorruptError() }
        // Byte by byte: the source may overlap the destination (runs).
        for k in 0..<length { dst[o + k] = dst[o - offset + k] }
        o += length
    }

    /// Greedy matching with a hash table of 4-byte sequences, in 64 KiB blocks as Snappy does.
    static func compress(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 2 + 32)
        var n = UInt64(input.count)
        while n >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
        var table = [Int32](repeating: -1, count: 1 << 14)
        var blockStart = 0
        while blockStart < input.count {
            let blockEnd = min(blockStart + 65_536, input.count)
            for k in table.indices { table[k] = -1 }
            var literalStart = blockStart
            var i = blockStart
            @inline(__always) func load32(_ at: Int) -> UInt32 {
                UInt32(input[at]) | UInt32(input[at + 1]) << 8 | UInt32(input[at + 2]) << 16 | UInt32(input[at + 3])
                    << 24
            }
            while i + 4 <= blockEnd {
                let h = Int((load32(i) &* 0x1E35_A7BD) >> 18)
                let candidate = Int(table[h])
                table[h] = Int32(i)
                if candidate >= blockStart && i - candidate <= 65_535 && load32(candidate) == load32(i) {
                    emitLiteral(input, from: literalStart, to: i, into: &out)
                    var length = 4
                    while i + length < blockEnd && input[candidate + length] == input[i + length] { length += 1 }
                    emitCopy(offset: i - candidate, length: length, into: &out)
                    i += length
                    literalStart = i
                } else {
                    i += 1
                }
            }
            emitLiteral(input, from: literalStart, to: blockEnd, into: &out)
            blockStart = blockEnd
        }
        return out
    }

    private static func emitLiteral(_ input: UnsafeRawBufferPointer, from: Int, to: Int, into out: inout [UInt8]) {
        var start = from
        while start < to {
            let n = min(to - start, 65_536)
            let m = n - 1
            if m < 60 {
                out.append(UInt8(m) << 2)
            } else if m < 256 {
                out.append(60 << 2)
                out.append(UInt8(m))
            } else {
                out.append(61 << 2)
                out.append(UInt8(m & 0xFF))
                out.append(UInt8(m >> 8))
            }
            out.append(contentsOf: input[start..<start + n])
            start += n
        }
    }

    private static func emitCopy(offset: Int, length: Int, into out: inout [UInt8]) {
        var remaining = length
        while remaining > 0 {
            // Copies of 1..64 bytes with a two-byte offset; never leave fewer than 4 for the next one.
            var n = min(remaining, 64)
            if remaining - n > 0 && remaining - n < 4 { n = remaining - 4 }
            out.append(UInt8(n - 1) << 2 | 2)
            out.append(UInt8(offset & 0xFF))
            out.append(UInt8(offset >> 8))
            remaining -= n
        }
    }
}
