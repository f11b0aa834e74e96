/// Contributions of many rows: row-major, `featureNames.count + 1` values a row (the bias last), as
/// XGBoost's `pred_contribs` lays them out.
public struct SHAPValues: Sendable, Equatable {
    public let rows: Int
    public let featureNames: [String]
    public var values: [Double]

    public init(rows: Int, featureNames: [String], values: [Double]) {
        precondition(values.count == rows * (featureNames.count + 1), "values do not fill the rows")
        self.rows = rows
        self.featureNames = featureNames
        self.values = values
    }

    public var width: Int { featureNames.count + 1 }

    /// One row: its contributions, then the bias.
    public func row(_ r: Int) -> ArraySlice<Double> { values[r * width..<(r + 1) * width] }

    /// Global importance: the mean absolute contribution of each feature over the rows.
    public func meanAbsolute() -> [Double] {
        var sums = [Double](repeating: 0, count: featureNames.count)
        for r in 0..<rows {
            let base = r * width
            for j in sums.indices { sums[j] += abs(values[base + j]) }
        }
        return sums.map { rows > 0 ? $0 / Double(rows) : 0 }
    }

    /// Features by mean |SHAP|, largest first (ties by column order).
    public func importance() -> [(feature: Int, meanAbsolute: Double)] {
        let m = meanAbsolute()
        return m.indices.sorted { (m[$0], $1) > (m[$1], $0) }.map { ($0, m[$0]) }
    }

    /// The `k` largest contributions of a row by absolute value (ties by column order); zero
    /// contributions are left out.
    public func top(_ r: Int, _ k: Int) -> [(feature: Int, value: Double)] {
        Self.top(Array(row(r).dropLast()), k)
    }

    /// The `k` largest of `contributions` (one per feature) by absolute value, zeros left out.
    public static func top(_ contributions: [Double], _ k: Int) -> [(feature: Int, value: Double)] {
        let order = contributions.indices.filter { contributions[$0] != 0 }.sorted {
            (abs(contributions[$0]), $1) > (abs(contributions[$1]), $0)
        }
        return order.prefix(max(0, k)).map { ($0, contributions[$0]) }
    }
}
