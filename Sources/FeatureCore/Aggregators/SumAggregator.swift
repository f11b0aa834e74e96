/// `sum` of a numeric field, kept in fixed point (micro-units) in a 128-bit integer, so that adding
/// the same events in any order gives the same bits (the stream and the point-in-time builder fold
/// in different orders and must agree exactly) and no sum can wrap. A missing value adds nothing;
/// a value beyond ±9.2e12 (what one event's micro-units can hold) counts as that bound.
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

    public var empty: WideSum { .zero }
    public func update(_ partial: inout WideSum, with event: Event) {
        partial += WideSum(Self.fixedPoint(event.values[field]))
    }
    public func merge(_ partial: inout WideSum, with other: WideSum) { partial += other }
    public func finalize(_ partial: WideSum) -> Double { partial.double / Self.scale }
    public func encode(_ partial: WideSum, to writer: inout StateWriter) { writer.zigzag(partial) }
    public func decayTerm(_ event: Event) -> Double? { event.values[field].numericValue }
    public static let decays = true
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> WideSum {
        try reader.wideZigzag()
    }

    @inline(__always)
    static func fixedPoint(_ v: FieldValue) -> Int64 {
        guard let x = v.numericValue else { return 0 }
        return fixedPoint(x)
    }

    /// `x` in micro-units, rounded half away from zero, clamped to what an Int64 holds.
    @inline(__always)
    public static func fixedPoint(_ x: Double) -> Int64 {
        guard !x.isNaN else { return 0 }
        let scaled = (x * scale).rounded()
        // Beyond ±9.2e12 units one value cannot be represented: it counts as the bound.
        if scaled >= 9.2e18 { return 9_200_000_000_000_000_000 }
        if scaled <= -9.2e18 { return -9_200_000_000_000_000_000 }
        return Int64(scaled)
    }
}
