/// LEB128 variable-length integers (7 bits a byte, low bits first), as Protocol Buffers, Thrift's
/// compact protocol and Parquet's RLE headers write them; zigzag maps signed integers so that
/// small magnitudes stay short.
public enum Varint {
    @inline(__always)
    public static func append(_ v: UInt64, to out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    @inline(__always)
    public static func appendZigzag(_ v: Int64, to out: inout [UInt8]) {
        append(zigzag(v), to: &out)
    }

    @inline(__always)
    public static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }

    @inline(__always)
    public static func unzigzag(_ u: UInt64) -> Int64 { Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1) }
}
