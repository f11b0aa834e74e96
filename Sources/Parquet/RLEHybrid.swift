import FsmlCore

/// Parquet's RLE / bit-packed hybrid encoding, for definition levels and dictionary indexes.
enum RLEHybrid {
    struct CorruptError: Error {}

    /// Encodes `values` (each < 2^bitWidth): runs of 8 or more equal values as RLE runs, the rest
    /// bit-packed in groups of eight.
    static func encode(_ values: [UInt32], bitWidth: Int, into out: inout [UInt8]) {
        let byteWidth = (bitWidth + 7) / 8
        var i = 0
        var pending: [UInt32] = []
        func flushPacked() {
            guard !pending.isEmpty else { return }
            while pending.count % 8 != 0 { pending.append(0) }
            let groups = pending.count / 8
            Varint.append(UInt64(groups << 1 | 1), to: &out)
            var buffer: UInt64 = 0
            var bits = 0
            for v in pending {
                buffer |= UInt64(v) << UInt64(bits)
                bits += bitWidth
                while bits >= 8 {
                    out.append(UInt8(truncatingIfNeeded: buffer))
                    buffer >>= 8
                    bits -= 8
                }
            }
            if bits > 0 { out.append(UInt8(truncatingIfNeeded: buffer)) }
            pending.removeAll(keepingCapacity: true)
        }
        while i < values.count {
            var run = 1
            while i + run < values.count && values[i + run] == values[i] { run += 1 }
            if run >= 8 && pending.count % 8 == 0 {
                flushPacked()
                Varint.append(UInt64(run << 1), to: &out)
                var v = values[i]
                for _ in 0..<byteWidth {
                    out.append(UInt8(truncatingIfNeeded: v))
                    v >>= 8
                }
                i += run
            } else {
                pending.append(values[i])
                i += 1
                // A bit-packed run holds up to 63 groups of eight.
                if pending.count == 504 { flushPacked() }
            }
        }
        flushPacked()
    }

    /// Decodes `count` values.
    static func decode(_ p: UnsafeRawBufferPointer, bitWidth: Int, count: Int) throws(CorruptError) -> [UInt32] {
        guard bitWidth >= 0 && bitWidth <= 32 else { throw CorruptError() }
        var out = [UInt32]()
        out.reserveCapacity(count)
        if bitWidth == 0 { return [UInt32](repeating: 0, count: count) }
        var i = 0
        let byteWidth = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
        while out.count < count {
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < p.count, shift < 35 else { throw CorruptError() }
                let b = p[i]
                i += 1
                header |= UInt64(b & 0x7f) << shift
                if b < 0x80 { break }
                shift += 7
            }
            if header & 1 == 0 {
                let run = Int(header >> 1)
                guard i + byteWidth <= p.count else { throw CorruptError() }
                var v: UInt32 = 0
                for k in 0..<byteWidth { v |= UInt32(p[i + k]) << UInt32(8 * k) }
                i += byteWidth
                guard run > 0, UInt64(v) <= mask else { throw CorruptError() }
                for _ in 0..<min(run, count - out.count) { out.append(v) }
            } else {
                // A bit-packed run of G groups is 8G values in exactly G·bitWidth bytes.
                let groups = Int(header >> 1)
                guard groups > 0 else { throw CorruptError() }
                let runStart = i
                var v = 0
                while v < groups * 8 && out.count < count {
                    let bitPosition = v * bitWidth
                    let first = runStart + bitPosition / 8
                    let offset = bitPosition % 8
                    var acc: UInt64 = 0
                    var k = 0
                    while k * 8 < offset + bitWidth {
                        guard first + k < p.count else { throw CorruptError() }
                        acc |= UInt64(p[first + k]) << UInt64(8 * k)
                        k += 1
                    }
                    out.append(UInt32((acc >> UInt64(offset)) & mask))
                    v += 1
                }
                i = min(runStart + groups * bitWidth, p.count)
            }
        }
        return out
    }

    static func bitWidth(_ maxValue: Int) -> Int {
        var w = 0
        while (1 << w) <= maxValue { w += 1 }
        return w
    }
}
