/// `min` of a numeric field: its smallest value; missing values are skipped, NaN when there is none.
public struct MinAggregator: ExtremeAggregator {
    public static let name = "min"
    public static let keepsLowest = true
    public let field: Int

    public init(field: Int) { self.field = field }
}
