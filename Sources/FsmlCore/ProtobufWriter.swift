/// Protocol Buffers' wire format, enough to write a message: varint, length-delimited and packed
/// fields. Messages are built inside out (a nested message is written, then added as bytes).
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    mutating func key(_ field: Int, _ wireType: UInt64) { Varint.append(UInt64(field) << 3 | wireType, to: &bytes) }

    public mutating func int(_ field: Int, _ v: Int64) {
        key(field, 0)
        Varint.append(UInt64(bitPattern: v), to: &bytes)
    }

    public mutating func bytes(_ field: Int, _ v: [UInt8]) {
        key(field, 2)
        Varint.append(UInt64(v.count), to: &bytes)
        bytes += v
    }

    public mutating func string(_ field: Int, _ v: String) { self.bytes(field, Array(v.utf8)) }

    public mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        self.bytes(field, inner.bytes)
    }

    /// A packed repeated float field (little-endian IEEE 754 single precision).
    public mutating func floats(_ field: Int, _ v: [Float]) {
        var packed: [UInt8] = []
        packed.reserveCapacity(4 * v.count)
        for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { packed += $0 } }
        self.bytes(field, packed)
    }

    /// A packed repeated varint field.
    public mutating func ints(_ field: Int, _ v: [Int64]) {
        var packed: [UInt8] = []
        for x in v { Varint.append(UInt64(bitPattern: x), to: &packed) }
        self.bytes(field, packed)
    }
}
