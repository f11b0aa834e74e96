import FsmlCore

/// A field's value in one event. Timestamps other than the event time are numbers of microseconds.
public enum FieldValue: Sendable, Hashable {
    case missing
    case string(String)
    case number(Double)
    case bool(Bool)

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Numeric view for aggregations: numbers as they are, booleans as 0 or 1.
    public var numericValue: Double? {
        switch self {
        case .number(let x): return x
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// How the value reads inside a filter expression.
    var filterText: String {
        switch self {
        case .missing: return "null"
        case .number(let x): return JSONText.number(x)
        case .bool(let b): return b ? "true" : "false"
        case .string(let s):
            let bare = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
            return bare && !["and", "or", "not", "in", "true", "false"].contains(s) ? s : "'\(s)'"
        }
    }
}

/// One validated event: its time and its field values in schema order.
public struct Event: Sendable, Equatable {
    public var time: Micros
    public var values: [FieldValue]

    public init(time: Micros, values: [FieldValue]) {
        self.time = time
        self.values = values
    }

    public func id(in schema: EventSchema) -> String { values[schema.idField].stringValue ?? "" }
}
