/// `sum` of a numeric field, kept in fixed point (micro-units) in an Int64 so that adding the same
/// events in any order gives the same bits: the stream and the point-in-time builder fold in
/// different orders and must agree exactly. A missing value adds nothing.
public struct SumAggregator: Aggregator {
    public static let name = "sum"
    public static let argumentKeys = ["field"]
    /// Micro-units per unit.
    public static let scale: Double = 1_000_000
    public let field: Int

    public init(field: Int) { self.field = field }
    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: true)
    }

    public var identity: String { "sum(field: \(field))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name)]
    }
    public var fieldsRead: Set<Int> { [field] }

    public var empty: Int64 { 0 }
    public func update(_ partial: inout Int64, with event: Event) {
        partial &+= Self.fixedPoint(event.values[field])
    }
    public func merge(_ partial: inout Int64, with other: Int64) { partial &+= other }
    public func finalize(_ partial: Int64) -> Double { Double(partial) / Self.scale }
    public func encode(_ partial: Int64, to writer: inout StateWriter) { writer.zigzag(partial) }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> Int64 { try reader.zigzag() }

    @inline(__always)
    static func fixedPoint(_ v: FieldValue) -> Int64 {
        guard let x = v.numericValue else { return 0 }
        let scaled = (x * scale).rounded()
        // Beyond ±9.2e12 units a value cannot be represented; clamp rather than trap.
        if scaled >= 9.2e18 { return Int64.max / 2 }
        if scaled <= -9.2e18 { return Int64.min / 2 }
        return Int64(scaled)
    }
}
