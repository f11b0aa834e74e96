/// `approx_percentile` of a numeric field: the value at `percentile` (a fraction: 0.5 is the
/// median, 0.95 the 95th percentile), within a relative error `relative_accuracy` (default 0.01)
/// of the exact lower percentile, from a DDSketch (`DDSketch`). Percentiles of one field with
/// one accuracy share one sketch. Missing values are skipped; NaN when there is none.
public struct ApproxPercentileAggregator: Aggregator {
    public static let name = "approx_percentile"
    public static let argumentKeys = ["field", "percentile", "relative_accuracy"]
    public let field: Int
    public let percentile: Double
    public let accuracy: Double
    let mapping: DDSketch.Mapping

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: true)
        percentile = try arguments.number("percentile", in: 0...1)
        accuracy = try arguments.number("relative_accuracy", in: 0.0001...0.5, default: 0.01)
        mapping = DDSketch.Mapping(accuracy: accuracy)
    }

    public var stateIdentity: String { "ddsketch(field: \(field), accuracy: \(accuracy))" }
    public var identity: String { "\(stateIdentity)[\(percentile)]" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("percentile", "\(percentile)"), ("relative_accuracy", "\(accuracy)")]
    }
    public var fieldsRead: Set<Int> { [field] }

    public var empty: DDSketch { DDSketch() }
    public func update(_ partial: inout DDSketch, with event: Event) {
        if let x = event.values[field].numericValue { partial.add(x, mapping: mapping) }
    }
    public func merge(_ partial: inout DDSketch, with other: DDSketch) { partial.merge(other) }
    public func finalize(_ partial: DDSketch) -> Double { partial.quantile(percentile, mapping: mapping) }
    public func encode(_ partial: DDSketch, to writer: inout StateWriter) { partial.encode(to: &writer) }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> DDSketch {
        try DDSketch.decode(from: &reader)
    }
}
