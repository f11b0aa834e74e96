/// The arguments of one feature definition as fsml.yaml spells them (`field: price`), for an
/// aggregator to read. Keeps track of what was read, so that the loader can refuse the rest.
public struct AggregatorArguments: Sendable {
    public let schema: EventSchema
    /// The operation being defined, for messages.
    public let operation: String
    private let values: [String: String]
    public private(set) var read: Set<String> = []

    public init(schema: EventSchema, operation: String, values: [String: String]) {
        self.schema = schema
        self.operation = operation
        self.values = values
    }

    /// The keys given but not read.
    public var unread: [String] { values.keys.filter { !read.contains($0) }.sorted() }

    /// A required text argument.
    public mutating func text(_ key: String) throws(ArgumentError) -> String {
        read.insert(key)
        guard let v = values[key] else { throw ArgumentError(key: nil, message: "missing key '\(key)'") }
        return v
    }

    /// A required event field (`field: price`), as its index in the schema.
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
