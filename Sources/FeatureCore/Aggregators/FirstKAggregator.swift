/// `first_k` of a numeric field: the values of its k earliest events (earliest first), optionally
/// `distinct: true` (each value once, at its earliest event). Events whose value is missing are
/// skipped; ties in time are broken as for `first` (`PickedEvent`).
///
/// List-valued: a definition named `prices` with k: 3 yields the features prices_1, prices_2 and
/// prices_3, one column each in datasets and models, NaN where fewer than k values exist.
public struct FirstKAggregator: PickedKAggregator {
    public static let name = "first_k"
    public static let keepsLatest = false
    public let field: Int
    public let idField: Int
    public let k: Int
    public let distinct: Bool
    public let output: Int?

    public init(field: Int, idField: Int, k: Int, distinct: Bool, output: Int?) {
        (self.field, self.idField, self.k, self.distinct, self.output) = (field, idField, k, distinct, output)
    }
}
