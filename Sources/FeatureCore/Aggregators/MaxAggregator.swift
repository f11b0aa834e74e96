/// `max` of a numeric field: its largest value; missing values are skipped, NaN when there is none.
public struct MaxAggregator: ExtremeAggregator {
    public static let name = "max"
    public static let keepsLowest = false
    public let field: Int

    public init(field: Int) { self.field = field }
}
