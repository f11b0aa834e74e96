/// `top_k` of a numeric field: its k largest values, largest first (repeats kept: two events
/// of 9.5 are two values). Missing values are skipped. Exact and order-free: the k largest of a
/// union are the k largest of the parts' k largest.
///
/// List-valued like `last_k`: a definition named `amounts` with k: 3 yields amounts_1,
/// amounts_2 and amounts_3, NaN where fewer than k values exist.
public struct TopKAggregator: RankedKAggregator {
    public static let name = "top_k"
    public static let keepsLargest = true
    public let field: Int
    public let k: Int
    public let output: Int?

    public init(field: Int, k: Int, output: Int?) { (self.field, self.k, self.output) = (field, k, output) }
}
