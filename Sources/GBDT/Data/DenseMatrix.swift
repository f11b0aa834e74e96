/// A dense table of Float32 values, row-major, NaN for missing, with a name per column. The
/// trainer, the predictor and the linear baseline all read this.
public struct DenseMatrix: Sendable, Equatable {
    public private(set) var rows: Int
    public let columns: Int
    public private(set) var values: [Float]
    public var featureNames: [String]

    public init(rows: Int, columns: Int, values: [Float], featureNames: [String]? = nil) {
        precondition(values.count == rows * columns, "values do not fill \(rows) × \(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
        self.featureNames = featureNames ?? (0..<columns).map { "f\($0)" }
    }

    public init(columns: Int, featureNames: [String]? = nil) {
        self.init(rows: 0, columns: columns, values: [], featureNames: featureNames)
    }

    @inlinable
    public subscript(row: Int, column: Int) -> Float { values[row * columns + column] }

    public func row(_ r: Int) -> ArraySlice<Float> { values[r * columns..<(r + 1) * columns] }

    public mutating func append(row: [Float]) {
        precondition(row.count == columns)
        values.append(contentsOf: row)
        rows += 1
    }

    public mutating func reserve(rows n: Int) { values.reserveCapacity(n * columns) }

    /// The rows at the given indexes, in that order.
    public func selecting(rows indexes: [Int]) -> DenseMatrix {
        var out: [Float] = []
        out.reserveCapacity(indexes.count * columns)
        for r in indexes { out.append(contentsOf: row(r)) }
        return DenseMatrix(rows: indexes.count, columns: columns, values: out, featureNames: featureNames)
    }
}

/// Features and labels for training or evaluation.
public struct LabeledData: Sendable, Equatable {
    public var features: DenseMatrix
    public var labels: [Float]
    /// How much each row counts in the loss and the metrics (LightGBM's sample weights); nil:
    /// every row once.
    public var weights: [Float]?
    /// A margin per row that boosting starts from instead of the average (LightGBM's init
    /// scores, e.g. another model's output); the trained model then predicts what is added to it.
    public var initScores: [Double]?
    /// Query groups for ranking: the sizes of consecutive runs of rows (LightGBM's .query file).
    public var groups: [Int]?

    public init(features: DenseMatrix, labels: [Float], weights: [Float]? = nil, initScores: [Double]? = nil) {
        precondition(features.rows == labels.count, "\(features.rows) rows but \(labels.count) labels")
        precondition(weights == nil || weights!.count == labels.count, "\(labels.count) labels but other weights")
        self.features = features
        self.labels = labels
        self.weights = weights
        self.initScores = initScores
    }

    public var rows: Int { labels.count }

    /// Where each group starts, and the end: groups[g] is rows offsets[g]..<offsets[g + 1].
    public var groupOffsets: [Int]? {
        groups.map { sizes in sizes.reduce(into: [0]) { $0.append($0.last! + $1) } }
    }

    /// The same rows with `columns` columns, the missing ones 0 (a LibSVM file whose highest index
    /// is lower than the training file's).
    public func widened(toColumns columns: Int) -> LabeledData {
        guard columns > features.columns else { return self }
        var values = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<features.columns { values[r * columns + c] = features.values[r * features.columns + c] }
        }
        var out = self
        out.features = DenseMatrix(rows: rows, columns: columns, values: values)
        return out
    }

    public func selecting(rows indexes: [Int]) -> LabeledData {
        LabeledData(
            features: features.selecting(rows: indexes), labels: indexes.map { labels[$0] },
            weights: weights.map { w in indexes.map { w[$0] } },
            initScores: initScores.map { s in indexes.map { s[$0] } })
    }
}
