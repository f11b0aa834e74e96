/// `skew` of a numeric field: the Fisher–Pearson coefficient g1 = m3 / m2^1.5 over population
/// moments (as scipy.stats.skew with bias=True). NaN when there is no value or all are equal.
public struct SkewAggregator: MomentAggregator {
    public static let name = "skew"
    public static let order = 4
    public let field: Int

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: true)
    }

    public var identity: String { "skew(field: \(field))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name)]
    }
    public func finalize(_ partial: PowerSums) -> Double { partial.skew }
}
