import Foundation

/// The key of an entity in an event: its key fields' values, joined by ':' when there are several
/// (an entity keyed `[account, device]` has keys `a17:d4`). '%' and ':' inside a value are escaped so two
/// different key tuples never join to the same text.
public struct EntityKeyMaker: Sendable, Equatable {
    public let fields: [Int]

    public init(fields: [Int]) { self.fields = fields }

    @inline(__always)
    public func key(_ event: Event) -> String? {
        if fields.count == 1 { return Self.component(event.values[fields[0]]) }
        var bytes: [UInt8] = []
        return write(event, into: &bytes) ? String(decoding: bytes, as: UTF8.self) : nil
    }

    /// Appends the bytes of `key(event)` to `buffer` without making the text; false (and nothing
    /// appended) when the event lacks a key field. A fold looks keys up by these bytes, so a key
    /// of several fields costs no allocation unless it is new.
    @inline(__always)
    public func write(_ event: Event, into buffer: inout [UInt8]) -> Bool {
        let start = buffer.count
        for (i, f) in fields.enumerated() {
            if i > 0 { buffer.append(UInt8(ascii: ":")) }
            switch event.values[f] {
            case .string(var s):
                if fields.count == 1 {
                    s.withUTF8 { buffer.append(contentsOf: $0) }
                } else {
                    s.withUTF8 { bytes in
                        for b in bytes {
                            switch b {
                            case UInt8(ascii: "%"): buffer.append(contentsOf: [0x25, 0x32, 0x35])  // %25
                            case UInt8(ascii: ":"): buffer.append(contentsOf: [0x25, 0x33, 0x41])  // %3A
                            default: buffer.append(b)
                            }
                        }
                    }
                }
            case .number(let x): buffer.append(contentsOf: String(Int64(x)).utf8)
            default:
                buffer.removeSubrange(start...)
                return false
            }
        }
        return true
    }

    /// Joins key values given separately (a request's key fields, in the entity's order).
    public static func join(_ parts: [String]) -> String {
        parts.count == 1 ? parts[0] : parts.map(escape).joined(separator: ":")
    }

    @inline(__always)
    static func component(_ v: FieldValue) -> String? {
        switch v {
        case .string(let s): return s
        case .number(let x): return String(Int64(x))
        default: return nil
        }
    }

    static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "%") }) else { return s }
        return s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ":", with: "%3A")
    }
}
