import FsmlCore

/// The Thrift compact protocol, the part Parquet metadata uses: structs of fields with i16 ids;
/// bool, i8, i16, i32, i64, double, binary, list and struct values. Parquet's footer and page
/// headers are written and read with it.
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7, binary = 8
    case list = 9, set = 10, map = 11, `struct` = 12
}

struct ThriftWriter {
    private(set) var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    mutating func varint(_ v: UInt64) { Varint.append(v, to: &bytes) }

    mutating func zigzag(_ v: Int64) { Varint.appendZigzag(v, to: &bytes) }

    private mutating func fieldHeader(_ id: Int16, _ type: ThriftType) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastField[lastField.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) {
        fieldHeader(id, .i32)
        zigzag(Int64(v))
    }

    mutating func i64(_ id: Int16, _ v: Int64) {
        fieldHeader(id, .i64)
        zigzag(v)
    }

    mutating func bool(_ id: Int16, _ v: Bool) { fieldHeader(id, v ? .boolTrue : .boolFalse) }

    mutating func binary(_ id: Int16, _ v: [UInt8]) {
        fieldHeader(id, .binary)
        varint(UInt64(v.count))
        bytes.append(contentsOf: v)
    }

    mutating func string(_ id: Int16, _ v: String) { binary(id, Array(v.utf8)) }

    /// A struct field: `body` writes its fields.
    mutating func `struct`(_ id: Int16, _ body: (inout ThriftWriter) -> Void) {
        fieldHeader(id, .struct)
        beginStruct()
        body(&self)
        endStruct()
    }

    mutating func beginStruct() { lastField.append(0) }

    mutating func endStruct() {
        bytes.append(ThriftType.stop.rawValue)
        lastField.removeLast()
    }

    private mutating func listHeader(_ id: Int16, count: Int, type: ThriftType) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func i32List(_ id: Int16, _ values: [Int32]) {
        listHeader(id, count: values.count, type: .i32)
        for v in values { zigzag(Int64(v)) }
    }

    mutating func stringList(_ id: Int16, _ values: [String]) {
        listHeader(id, count: values.count, type: .binary)
        for v in values {
            varint(UInt64(v.utf8.count))
            bytes.append(contentsOf: Array(v.utf8))
        }
    }

    mutating func structList<T>(_ id: Int16, _ values: [T], _ body: (inout ThriftWriter, T) -> Void) {
        listHeader(id, count: values.count, type: .struct)
        for v in values {
            beginStruct()
            body(&self, v)
            endStruct()
        }
    }
}

public struct ThriftError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Reads compact-protocol structs into a generic tree, so readers pick the fields they know and
/// skip the rest (newer writers add fields).
indirect enum ThriftValue {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case binary([UInt8])
    case list([ThriftValue])
    case `struct`([Int16: ThriftValue])

    var int: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }

    var bool: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    var binary: [UInt8]? {
        if case .binary(let v) = self { return v }
        return nil
    }

    var string: String? { binary.map { String(decoding: $0, as: UTF8.self) } }

    var list: [ThriftValue]? {
        if case .list(let v) = self { return v }
        return nil
    }

    var fields: [Int16: ThriftValue]? {
        if case .struct(let v) = self { return v }
        return nil
    }

    subscript(_ id: Int16) -> ThriftValue? { fields?[id] }
}

struct ThriftReader {
    let p: UnsafeRawBufferPointer
    var i: Int
    private var depth = 0

    init(_ p: UnsafeRawBufferPointer, at start: Int = 0) {
        self.p = p
        i = start
    }

    private mutating func byte() throws(ThriftError) -> UInt8 {
        guard i < p.count else { throw ThriftError(description: "metadata ends too early") }
        defer { i += 1 }
        return p[i]
    }

    mutating func varint() throws(ThriftError) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw ThriftError(description: "varint too long") }
            v |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    mutating func zigzag() throws(ThriftError) -> Int64 {
        let u = try varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    /// Reads one struct (from its first field to its stop byte).
    mutating func readStruct() throws(ThriftError) -> [Int16: ThriftValue] {
        depth += 1
        defer { depth -= 1 }
        guard depth < 64 else { throw ThriftError(description: "metadata nested too deep") }
        var fields: [Int16: ThriftValue] = [:]
        var last: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return fields }
            let delta = Int16(header >> 4)
            guard let type = ThriftType(rawValue: header & 0x0F) else {
                throw ThriftError(description: "unknown thrift type \(header & 0x0F)")
            }
            let id: Int16
            if delta != 0 {
                id = last + delta
            } else {
                let raw = try zigzag()
                guard raw >= Int64(Int16.min) && raw <= Int64(Int16.max) else {
                    throw ThriftError(description: "bad field id")
                }
                id = Int16(raw)
            }
            last = id
            fields[id] = try value(type)
        }
    }

    private mutating func value(_ type: ThriftType) throws(ThriftError) -> ThriftValue {
        switch type {
        case .boolTrue: return .bool(true)
        case .boolFalse: return .bool(false)
        case .byte: return .int(Int64(Int8(bitPattern: try byte())))
        case .i16, .i32, .i64: return .int(try zigzag())
        case .double:
            guard i + 8 <= p.count else { throw ThriftError(description: "metadata ends too early") }
            var bits: UInt64 = 0
            for k in 0..<8 { bits |= UInt64(p[i + k]) << UInt64(8 * k) }
            i += 8
            return .double(Double(bitPattern: bits))
        case .binary:
            let n = try varint()
            guard n <= UInt64(p.count - i) else { throw ThriftError(description: "a string runs past the metadata") }
            defer { i += Int(n) }
            return .binary(Array(p[i..<i + Int(n)]))
        case .list, .set:
            let header = try byte()
            var count = UInt64(header >> 4)
            if count == 15 { count = try varint() }
            guard count <= UInt64(p.count - i) else {
                throw ThriftError(description: "a list is longer than the metadata")
            }
            guard let elementType = ThriftType(rawValue: header & 0x0F) else {
                throw ThriftError(description: "unknown list element type")
            }
            var items: [ThriftValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count {
                // In lists, booleans are one byte each.
                if elementType == .boolTrue || elementType == .boolFalse {
                    items.append(.bool(try byte() == 1))
                } else {
                    items.append(try value(elementType))
                }
            }
            return .list(items)
        case .map:
            let count = try varint()
            guard count <= UInt64(p.count - i) else {
                throw ThriftError(description: "a map is longer than the metadata")
            }
            if count == 0 { return .list([]) }
            let types = try byte()
            guard let kt = ThriftType(rawValue: types >> 4), let vt = ThriftType(rawValue: types & 0x0F) else {
                throw ThriftError(description: "unknown map types")
            }
            var items: [ThriftValue] = []
            for _ in 0..<count {
                items.append(try value(kt))
                items.append(try value(vt))
            }
            return .list(items)
        case .struct:
            return .struct(try readStruct())
        case .stop:
            throw ThriftError(description: "unexpected stop")
        }
    }
}
