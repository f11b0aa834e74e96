/// `stddev` of a numeric field: the square root of `variance` (sample by default; population with
/// `sample: false`). Shares its state with `variance` of the same field.
public struct StddevAggregator: SampleMomentAggregator {
    public static let name = "stddev"
    public let field: Int
    public let sample: Bool

    public init(field: Int, sample: Bool) { (self.field, self.sample) = (field, sample) }

    public func finalize(_ partial: PowerSums) -> Double { partial.variance(sample: sample).squareRoot() }
}
