/// The arguments of one feature definition as fsml.yaml spells them (`field: amount`, `k: 5`,
/// `values: [a, b]`), for an aggregator to read. Keeps track of what was read, so that the loader
/// can refuse the rest.
public struct AggregatorArguments: Sendable {
    public let schema: EventSchema
    /// The operation being defined, for messages.
    public let operation: String
    private let values: [String: String]
    private let lists: [String: [String]]
    public private(set) var read: Set<String> = []

    public init(schema: EventSchema, operation: String, values: [String: String], lists: [String: [String]] = [:]) {
        self.schema = schema
        self.operation = operation
        self.values = values
        self.lists = lists
    }

    /// The keys given but not read.
    public var unread: [String] {
        (Array(values.keys) + Array(lists.keys)).filter { !read.contains($0) }.sorted()
    }

    /// A text argument; nil when it is absent.
    public mutating func optionalText(_ key: String) throws(ArgumentError) -> String? {
        read.insert(key)
        if lists[key] != nil { throw ArgumentError(key: key, message: "expected a single value, not a list") }
        return values[key]
    }

    /// A required text argument.
    public mutating func text(_ key: String) throws(ArgumentError) -> String {
        guard let v = try optionalText(key) else { throw ArgumentError(key: nil, message: "missing key '\(key)'") }
        return v
    }

    /// A required event field (`field: amount`), as its index in the schema.
    public mutating func field(_ key: String = "field", numeric: Bool) throws(ArgumentError) -> Int {
        let name = try text(key)
        guard let i = schema.index(of: name) else {
            throw ArgumentError(key: key, message: "'\(name)' is not a declared event field")
        }
        if numeric && !schema.fields[i].type.isNumeric {
            throw ArgumentError(key: key, message: "\(operation) needs a numeric field, but '\(name)' is a string")
        }
        return i
    }

    /// A whole number in `range`, or `default` when absent.
    public mutating func integer(
        _ key: String, in range: ClosedRange<Int>, default fallback: Int? = nil
    )
        throws(ArgumentError) -> Int
    {
        guard let text = try optionalText(key) else {
            guard let fallback else { throw ArgumentError(key: nil, message: "missing key '\(key)'") }
            return fallback
        }
        guard let v = Int(text), range.contains(v) else {
            throw ArgumentError(
                key: key, message: "'\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    /// A number in `range` (bounds included), or `default` when absent.
    public mutating func number(
        _ key: String, in range: ClosedRange<Double>, default fallback: Double? = nil
    )
        throws(ArgumentError) -> Double
    {
        guard let text = try optionalText(key) else {
            guard let fallback else { throw ArgumentError(key: nil, message: "missing key '\(key)'") }
            return fallback
        }
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw ArgumentError(
                key: key, message: "'\(text)' is not a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }

    /// true or false, or `default` when absent.
    public mutating func flag(_ key: String, default fallback: Bool) throws(ArgumentError) -> Bool {
        switch try optionalText(key) {
        case nil: return fallback
        case "true", "yes": return true
        case "false", "no": return false
        case let text?: throw ArgumentError(key: key, message: "'\(text)' is not true or false")
        }
    }

    /// A required list of values (`values: [mobile, desktop]`); a single value is a list of one.
    public mutating func list(_ key: String) throws(ArgumentError) -> [String] {
        read.insert(key)
        if let list = lists[key] { return list }
        if let v = values[key] { return [v] }
        throw ArgumentError(key: nil, message: "missing key '\(key)'")
    }
}

/// A fault in an aggregator's arguments; `key` names the argument (nil: the definition itself).
public struct ArgumentError: Error, Sendable {
    public let key: String?
    public let message: String

    public init(key: String?, message: String) {
        self.key = key
        self.message = message
    }
}
