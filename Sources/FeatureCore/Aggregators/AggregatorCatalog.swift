/// Every aggregation operation fsml.yaml can name.
public enum AggregatorCatalog {
    public static let all: [any Aggregator.Type] = [
        CountAggregator.self, SumAggregator.self, DistinctCountAggregator.self, FirstAggregator.self,
        LastAggregator.self, DurationAggregator.self,
    ]

    public static func named(_ name: String) -> (any Aggregator.Type)? { all.first { $0.name == name } }

    /// Every argument key some operation reads.
    public static var argumentKeys: Set<String> { Set(all.flatMap { $0.argumentKeys }) }
}
