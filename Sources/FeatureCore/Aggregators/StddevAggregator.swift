/// `stddev` of a numeric field: the square root of `variance` (sample by default; population with
/// `sample: false`). Shares its state with `variance` of the same field.
public struct StddevAggregator: MomentAggregator {
    public static let name = "stddev"
    public static let argumentKeys = ["field", "sample"]
    public static let order = 2
    public let field: Int
    public let sample: Bool

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: true)
        sample = try arguments.flag("sample", default: true)
    }

    public var identity: String { "stddev(field: \(field), sample: \(sample))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("sample", "\(sample)")]
    }
    public func finalize(_ partial: PowerSums) -> Double { partial.variance(sample: sample).squareRoot() }
}
