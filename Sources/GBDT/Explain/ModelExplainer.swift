import FsmlCore

/// SHAP values for any model fsml scores with: TreeSHAP for trees; for the logistic baseline the
/// exact linear SHAP values, `w_j (x_j − mean_j) / scale_j` with the training means as the
/// expectation (a missing value is imputed with its mean, so it contributes 0) and the intercept
/// as the bias. Either way a row's contributions and bias add up to its margin.
public enum ModelExplainer: Sendable {
    case trees(TreeExplainer)
    case linear(LogisticModel)

    public init(_ model: AnyModel) {
        switch model {
        case .gbdt(let m): self = .trees(TreeExplainer(m))
        case .logistic(let m): self = .linear(m)
        }
    }

    public var featureNames: [String] {
        switch self {
        case .trees(let t): return t.featureNames
        case .linear(let m): return m.featureNames
        }
    }

    /// A row's contributions, then the bias.
    public func contributions(_ row: [Float]) -> [Double] {
        switch self {
        case .trees(let t): return t.contributions(row)
        case .linear(let m): return row.withUnsafeBufferPointer { Self.linear(m, $0.baseAddress!) }
        }
    }

    public func contributions(_ matrix: DenseMatrix, threads: Int = Parallel.defaultThreads) -> SHAPValues {
        switch self {
        case .trees(let t): return t.contributions(matrix, threads: threads)
        case .linear(let m):
            precondition(matrix.columns >= m.featureNames.count, "the data has too few columns for the model")
            var out: [Double] = []
            out.reserveCapacity(matrix.rows * (m.featureNames.count + 1))
            matrix.values.withUnsafeBufferPointer { v in
                for r in 0..<matrix.rows { out += Self.linear(m, v.baseAddress! + r * matrix.columns) }
            }
            return SHAPValues(rows: matrix.rows, featureNames: m.featureNames, values: out)
        }
    }

    static func linear(_ m: LogisticModel, _ row: UnsafePointer<Float>) -> [Double] {
        var phi = m.weights.indices.map { j -> Double in
            let x = row[j]
            return x.isNaN ? 0 : m.weights[j] * ((Double(x) - m.means[j]) / m.scales[j])
        }
        phi.append(m.intercept)
        return phi
    }
}
