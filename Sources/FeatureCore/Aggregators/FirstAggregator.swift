/// `first`: a numeric field's value on the earliest event (ties: see `PickedEvent`).
public struct FirstAggregator: Aggregator {
    public static let name = "first"
    public static let argumentKeys = ["field"]
    public let field: Int
    public let idField: Int

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: true)
        idField = arguments.schema.idField
    }

    public var identity: String { "first(field: \(field))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name)]
    }
    public var fieldsRead: Set<Int> { [field, idField] }

    public var empty: PickedEvent? { nil }

    public func update(_ partial: inout PickedEvent?, with event: Event) {
        merge(&partial, with: PickedEvent(event, field: field, idField: idField))
    }

    public func merge(_ partial: inout PickedEvent?, with other: PickedEvent?) {
        guard let other else { return }
        if partial.map({ other.precedes($0) }) ?? true { partial = other }
    }

    public func finalize(_ partial: PickedEvent?) -> Double { partial?.value ?? .nan }
    public func encode(_ partial: PickedEvent?, to writer: inout StateWriter) {
        PickedEvent.encode(partial, to: &writer)
    }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> PickedEvent? {
        try PickedEvent.decode(from: &reader)
    }
}
