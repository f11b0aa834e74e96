/// `variance` of a numeric field: the sample variance (divided by n − 1, as SQL's VARIANCE and
/// pandas compute it) or, with `sample: false`, the population variance (divided by n). Missing
/// values are skipped; NaN with fewer than two values (one for the population variance).
public struct VarianceAggregator: MomentAggregator {
    public static let name = "variance"
    public static let argumentKeys = ["field", "sample"]
    public static let order = 2
    public let field: Int
    public let sample: Bool

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: true)
        sample = try arguments.flag("sample", default: true)
    }

    public var identity: String { "variance(field: \(field), sample: \(sample))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("sample", "\(sample)")]
    }
    public func finalize(_ partial: PowerSums) -> Double { partial.variance(sample: sample) }
}
