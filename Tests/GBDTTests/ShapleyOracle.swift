import FsmlCore

@testable import GBDT

/// Shapley values by their definition, for checking TreeSHAP: every subset of the features is
/// enumerated, and the value of a subset is the path-dependent expectation of the model, computed
/// by a plain recursive walk that follows the row at splits on known features and, at splits on
/// unknown ones, averages both children weighted by their covers. Written from the definition, not
/// from `SHAPTree` or `TreeSHAP`; exponential in the features, so for small models only.
enum ShapleyOracle {
    /// A child's cover: its hessian sum, or its row count in a tree without hessians.
    static func cover(_ tree: Tree, _ child: Int32) -> Double {
        let hessians = tree.internalHessian.contains { $0 > 0 } || tree.leafHessian.contains { $0 > 0 }
        if child < 0 {
            return hessians ? tree.leafHessian[Int(~child)] : Double(tree.leafCount[Int(~child)])
        }
        return hessians ? tree.internalHessian[Int(child)] : Double(tree.internalCount[Int(child)])
    }

    /// The tree's output expected when only the features in `known` (a bit mask) are known.
    static func value(_ tree: Tree, _ row: [Float], known: Int, node: Int32 = 0) -> Double {
        if tree.internalNodes == 0 { return tree.leafValue[0] }
        if node < 0 { return tree.leafValue[Int(~node)] }
        let n = Int(node)
        let (l, r) = (tree.leftChild[n], tree.rightChild[n])
        let f = Int(tree.splitFeature[n])
        if known & (1 << f) != 0 {
            let x = row[f]
            let left = x.isNaN ? tree.defaultLeft[n] : x <= tree.threshold[n]
            return value(tree, row, known: known, node: left ? l : r)
        }
        let (cl, cr) = (cover(tree, l), cover(tree, r))
        let (wl, wr) = cl + cr > 0 ? (cl / (cl + cr), cr / (cl + cr)) : (0.5, 0.5)
        return wl * value(tree, row, known: known, node: l) + wr * value(tree, row, known: known, node: r)
    }

    static func value(_ model: GBDTModel, _ row: [Float], known: Int) -> Double {
        model.trees.reduce(model.initScore) { $0 + value($1, row, known: known) }
    }

    /// φ_i = Σ over S ⊆ F∖{i} of |S|! (M − |S| − 1)! / M! · (v(S ∪ {i}) − v(S)); then the bias v(∅).
    static func shapley(_ model: GBDTModel, _ row: [Float]) -> [Double] {
        let m = model.featureCount
        let values = (0..<(1 << m)).map { value(model, row, known: $0) }
        var factorial = [1.0]
        for k in 1...max(m, 1) { factorial.append(factorial[k - 1] * Double(k)) }
        var phi = [Double](repeating: 0, count: m + 1)
        for i in 0..<m {
            for s in 0..<(1 << m) where s & (1 << i) == 0 {
                let size = s.nonzeroBitCount
                let weight = factorial[size] * factorial[m - size - 1] / factorial[m]
                phi[i] += weight * (values[s | (1 << i)] - values[s])
            }
        }
        phi[m] = values[0]
        return phi
    }

    /// Shapley interaction values by their definition: for i ≠ j, Σ over S ⊆ F∖{i, j} of
    /// |S|! (M − |S| − 2)! / (2 (M − 1)!) · (v(S ∪ {i, j}) − v(S ∪ {i}) − v(S ∪ {j}) + v(S)); the
    /// diagonal holds φ_i less the row's interactions; the bias v(∅) last. Row-major, (M + 1)².
    static func interactions(_ model: GBDTModel, _ row: [Float]) -> [Double] {
        let m = model.featureCount
        let width = m + 1
        let values = (0..<(1 << m)).map { value(model, row, known: $0) }
        let phi = shapley(model, row)
        var factorial = [1.0]
        for k in 1...max(m, 1) { factorial.append(factorial[k - 1] * Double(k)) }
        var out = [Double](repeating: 0, count: width * width)
        for i in 0..<m {
            var diagonal = phi[i]
            for j in 0..<m where j != i {
                var sum = 0.0
                let both = (1 << i) | (1 << j)
                for s in 0..<(1 << m) where s & both == 0 {
                    let size = s.nonzeroBitCount
                    let weight = factorial[size] * factorial[m - size - 2] / (2 * factorial[m - 1])
                    sum += weight * (values[s | both] - values[s | (1 << i)] - values[s | (1 << j)] + values[s])
                }
                out[i * width + j] = sum
                diagonal -= sum
            }
            out[i * width + i] = diagonal
        }
        out[width * width - 1] = phi[m]
        return out
    }
}
