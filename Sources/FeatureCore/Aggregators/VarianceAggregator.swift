/// `variance` of a numeric field: the sample variance (divided by n − 1, as SQL's VARIANCE and
/// pandas compute it) or, with `sample: false`, the population variance (divided by n). Missing
/// values are skipped; NaN with fewer than two values (one for the population variance).
public struct VarianceAggregator: SampleMomentAggregator {
    public static let name = "variance"
    public let field: Int
    public let sample: Bool

    public init(field: Int, sample: Bool) { (self.field, self.sample) = (field, sample) }

    public func finalize(_ partial: PowerSums) -> Double { partial.variance(sample: sample) }
}
