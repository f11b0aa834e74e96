import GBDT
import PointInTime

extension DatasetTable {
    /// The table's features as a row-major matrix of floats (NaN for missing) with its labels: what
    /// the learners take.
    public var labeledData: LabeledData {
        let columns = featureNames.count
        var values = [Float](repeating: .nan, count: rows * columns)
        for c in 0..<columns {
            let column = features[c]
            for r in 0..<rows { values[r * columns + c] = Float(column[r]) }
        }
        return LabeledData(
            features: DenseMatrix(rows: rows, columns: columns, values: values, featureNames: featureNames),
            labels: labels)
    }
}
