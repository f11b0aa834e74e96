import FsmlCore

/// The type of an event field as declared in fsml.yaml.
public enum FieldType: String, Sendable, CaseIterable {
    case string, int, float, bool, timestamp

    public var isNumeric: Bool { self == .int || self == .float || self == .bool || self == .timestamp }
}

/// One field of the event schema. Nested JSON objects are addressed by dotted paths
/// (`card.brand` is the `brand` key of the `card` object).
public struct FieldSpec: Sendable, Equatable {
    public var name: String
    public var type: FieldType
    public var optional: Bool
    /// Strings: at most this many bytes (ids are capped at 128 by default).
    public var maxLength: Int
    /// Strings: the allowed values, when the field is an enumeration.
    public var values: [String]?
    /// Numbers: inclusive bounds.
    public var min: Double?
    public var max: Double?

    public init(
        name: String, type: FieldType, optional: Bool = false, maxLength: Int = 128, values: [String]? = nil,
        min: Double? = nil, max: Double? = nil
    ) {
        self.name = name
        self.type = type
        self.optional = optional
        self.maxLength = maxLength
        self.values = values
        self.min = min
        self.max = max
    }

    /// The JSON path of the field: ["device", "os"].
    public var path: [String] { name.split(separator: ".").map(String.init) }
}

/// The declared event schema: its fields, and which of them are the event time and the event id.
public struct EventSchema: Sendable, Equatable {
    public let fields: [FieldSpec]
    public let timeField: Int
    public let idField: Int
    /// A line longer than this is a dead letter (only its start is kept for the record).
    public var maxLineBytes = LineReader.defaultMaxLineBytes
    private let indexByName: [String: Int]

    public init(fields: [FieldSpec], timeField: Int, idField: Int) {
        self.fields = fields
        self.timeField = timeField
        self.idField = idField
        var index: [String: Int] = [:]
        for (i, f) in fields.enumerated() { index[f.name] = i }
        indexByName = index
    }

    public func index(of name: String) -> Int? { indexByName[name] }

    public var timeFieldName: String { fields[timeField].name }
    public var idFieldName: String { fields[idField].name }
}
