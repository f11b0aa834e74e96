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
        var out = ""
        for (i, f) in fields.enumerated() {
            guard let part = Self.component(event.values[f]) else { return nil }
            if i > 0 { out += ":" }
            out += Self.escape(part)
        }
        return out
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
