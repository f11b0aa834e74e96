/// Every aggregation operation fsml.yaml can name.
public enum AggregatorCatalog {
    public static let all: [any Aggregator.Type] = [
        CountAggregator.self, SumAggregator.self, DistinctCountAggregator.self, FirstAggregator.self,
        LastAggregator.self, DurationAggregator.self, AvgAggregator.self, MinAggregator.self, MaxAggregator.self,
        VarianceAggregator.self, StddevAggregator.self, SkewAggregator.self, KurtosisAggregator.self,
        FirstKAggregator.self, LastKAggregator.self, TopKAggregator.self, BottomKAggregator.self,
        HistogramAggregator.self, TimeSinceLastAggregator.self, BoundedUniqueCountAggregator.self,
        ApproxUniqueCountAggregator.self, ApproxPercentileAggregator.self,
    ]

    public static func named(_ name: String) -> (any Aggregator.Type)? { all.first { $0.name == name } }

    /// Every argument key some operation reads.
    public static var argumentKeys: Set<String> { Set(all.flatMap { $0.argumentKeys }) }
}
