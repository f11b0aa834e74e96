import FsmlCore

/// Exact path-dependent SHAP values of a tree model (`TreeSHAP` over every tree): per row, one
/// contribution per feature and the bias (the model's expected margin), which add up to the row's
/// margin. Contributions are in margin units (log-odds for `binary:logistic`), as XGBoost's
/// `pred_contribs` gives them.
public struct TreeExplainer: Sendable {
    let trees: [SHAPTree]
    let pathCapacity: Int
    let reciprocals: [Double]
    public let featureCount: Int
    public let featureNames: [String]
    /// The bias term: the initial score plus every tree's cover-weighted mean output.
    public let expectedValue: Double

    public init(_ model: GBDTModel) {
        trees = model.trees.map(SHAPTree.init)
        let depth = trees.map(\.depth).max() ?? 0
        pathCapacity = TreeSHAP.pathCapacity(depth: depth)
        reciprocals = TreeSHAP.reciprocals(depth: depth)
        featureCount = model.featureCount
        featureNames = model.featureNames
        var expected = model.initScore
        for t in trees { expected += t.expectedValue }
        expectedValue = expected
    }

    /// Writes a row's contributions to `phi`: `featureCount` values, then the bias. The row must
    /// hold `featureCount` values.
    public func contributions(_ row: UnsafePointer<Float>, into phi: UnsafeMutablePointer<Double>) {
        withUnsafeTemporaryAllocation(of: TreeSHAP.PathElement.self, capacity: pathCapacity) { path in
            contributions(row, into: phi, path: path.baseAddress!)
        }
    }

    func contributions(
        _ row: UnsafePointer<Float>, into phi: UnsafeMutablePointer<Double>,
        path: UnsafeMutablePointer<TreeSHAP.PathElement>
    ) {
        phi.update(repeating: 0, count: featureCount)
        reciprocals.withUnsafeBufferPointer { r in
            for t in trees { TreeSHAP.add(t, row: row, phi: phi, path: path, reciprocals: r.baseAddress!) }
        }
        phi[featureCount] = expectedValue
    }

    /// A row's contributions: `featureCount` values, then the bias.
    public func contributions(_ row: [Float]) -> [Double] {
        precondition(row.count >= featureCount, "the row has \(row.count) values, the model needs \(featureCount)")
        return [Double](unsafeUninitializedCapacity: featureCount + 1) { phi, count in
            row.withUnsafeBufferPointer { contributions($0.baseAddress!, into: phi.baseAddress!) }
            count = featureCount + 1
        }
    }

    /// Contributions of every row, on all cores (rows in fixed blocks: a row's values do not depend
    /// on the threads).
    public func contributions(_ matrix: DenseMatrix, threads: Int = Parallel.defaultThreads) -> SHAPValues {
        precondition(
            matrix.columns >= featureCount, "the data has \(matrix.columns) columns, the model needs \(featureCount)")
        let width = featureCount + 1
        var out = [Double](repeating: 0, count: matrix.rows * width)
        let block = 256
        let blocks = (matrix.rows + block - 1) / block
        out.withUnsafeMutableBufferPointer { result in
            let res = UncheckedBox(result)
            matrix.values.withUnsafeBufferPointer { values in
                let v = UncheckedBox(values)
                Parallel.forEach(blocks, threads: threads) { b in
                    withUnsafeTemporaryAllocation(of: TreeSHAP.PathElement.self, capacity: pathCapacity) { path in
                        for r in b * block..<min((b + 1) * block, matrix.rows) {
                            contributions(
                                v.value.baseAddress! + r * matrix.columns, into: res.value.baseAddress! + r * width,
                                path: path.baseAddress!)
                        }
                    }
                }
            }
        }
        return SHAPValues(rows: matrix.rows, featureNames: featureNames, values: out)
    }
}
