/// `kurtosis` of a numeric field: the excess kurtosis g2 = m4 / m2² − 3 over population moments
/// (as scipy.stats.kurtosis with fisher=True, bias=True). NaN when there is no value or all are
/// equal.
public struct KurtosisAggregator: MomentAggregator {
    public static let name = "kurtosis"
    public static let order = 4
    public let field: Int

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: true)
    }

    public var identity: String { "kurtosis(field: \(field))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name)]
    }
    public func finalize(_ partial: PowerSums) -> Double { partial.kurtosis }
}
