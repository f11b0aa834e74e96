/// Parquet's PLAIN encoding: little-endian fixed-width values, bit-packed booleans, and
/// length-prefixed byte arrays.
enum PlainEncoding {
    static func encode(_ values: ColumnValues, skipping nulls: [Bool]?, into out: inout [UInt8]) {
        @inline(__always) func keep(_ i: Int) -> Bool { !(nulls?[i] ?? false) }
        switch values {
        case .boolean(let v):
            var byte: UInt8 = 0
            var bit = 0
            for i in v.indices where keep(i) {
                if v[i] { byte |= 1 << UInt8(bit) }
                bit += 1
                if bit == 8 {
                    out.append(byte)
                    byte = 0
                    bit = 0
                }
            }
            if bit > 0 { out.append(byte) }
        case .int32(let v):
            for i in v.indices where keep(i) { appendLE(UInt64(UInt32(bitPattern: v[i])), 4, &out) }
        case .int64(let v):
            for i in v.indices where keep(i) { appendLE(UInt64(bitPattern: v[i]), 8, &out) }
        case .float(let v):
            for i in v.indices where keep(i) { appendLE(UInt64(v[i].bitPattern), 4, &out) }
        case .double(let v):
            for i in v.indices where keep(i) { appendLE(v[i].bitPattern, 8, &out) }
        case .byteArray(let v):
            for i in v.indices where keep(i) {
                let bytes = v[i].utf8
                appendLE(UInt64(bytes.count), 4, &out)
                out.append(contentsOf: bytes)
            }
        }
    }

    @inline(__always)
    static func appendLE(_ v: UInt64, _ width: Int, _ out: inout [UInt8]) {
        for k in 0..<width { out.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * k))) }
    }

    struct CorruptError: Error {
        let what: String
    }

    /// Decodes `count` values of a physical type. `count` comes from a header and is checked
    /// against the bytes there are before anything is allocated for it.
    static func decode(
        _ p: UnsafeRawBufferPointer, type: ParquetPhysicalType, count: Int
    ) throws(CorruptError) -> ColumnValues {
        guard count >= 0 else { throw CorruptError(what: "a page header claims \(count) values") }
        /// `count` values of `bits` each fit in the page.
        @inline(__always) func need(bits: Int) throws(CorruptError) {
            let (total, overflow) = count.multipliedReportingOverflow(by: bits)
            guard !overflow, total / 8 + (total % 8 == 0 ? 0 : 1) <= p.count else {
                throw CorruptError(what: "a page holds fewer values than its header says")
            }
        }
        switch type {
        case .boolean:
            try need(bits: 1)
            return .boolean((0..<count).map { p[$0 >> 3] >> UInt8($0 & 7) & 1 == 1 })
        case .int32:
            try need(bits: 32)
            return .int32(
                (0..<count).map {
                    Int32(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian)
                })
        case .int64:
            try need(bits: 64)
            return .int64(
                (0..<count).map {
                    Int64(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian)
                })
        case .float:
            try need(bits: 32)
            return .float(
                (0..<count).map {
                    Float(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian)
                })
        case .double:
            try need(bits: 64)
            return .double(
                (0..<count).map {
                    Double(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian)
                })
        case .byteArray:
            try need(bits: 32)  // each value has at least its 4-byte length
            var out: [String] = []
            out.reserveCapacity(count)
            var i = 0
            for _ in 0..<count {
                guard i + 4 <= p.count else { throw CorruptError(what: "a byte array runs past its page") }
                let n = Int(p.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian)
                i += 4
                guard n <= p.count - i else { throw CorruptError(what: "a byte array runs past its page") }
                out.append(String(decoding: UnsafeRawBufferPointer(rebasing: p[i..<i + n]), as: UTF8.self))
                i += n
            }
            return .byteArray(out)
        case .int96, .fixedLenByteArray:
            throw CorruptError(what: "physical type \(type) is not supported")
        }
    }
}
