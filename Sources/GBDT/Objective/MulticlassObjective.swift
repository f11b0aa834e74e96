import Foundation

/// Softmax cross-entropy over K classes, as LightGBM's multiclass objective computes it: scores
/// are class-major (class k's margins of all n rows at `k * n`), the gradient of class k at a row
/// is p_k − [label = k], and the hessian p_k (1 − p_k) times K / (K − 1), Friedman's rescaling
/// for the redundancy of K outputs that sum to one.
public enum MulticlassObjective {
    /// Softmax of `margins` in place, shifted by their maximum so that no exponential overflows.
    @inline(__always)
    public static func softmax(_ margins: UnsafeMutableBufferPointer<Double>) {
        var top = -Double.infinity
        for m in margins where m > top { top = m }
        var total = 0.0
        for k in margins.indices {
            margins[k] = exp(margins[k] - top)
            total += margins[k]
        }
        for k in margins.indices { margins[k] /= total }
    }

    /// Probabilities of every row (or of the rows `subset` lists, in its order), row-major (the
    /// j-th row's K probabilities at `j * K`), from class-major margins of `rows` rows.
    public static func probabilities(
        classMajor scores: [Double], rows: Int, classes: Int, of subset: [Int]? = nil
    ) -> [Double] {
        let count = subset?.count ?? rows
        var out = [Double](repeating: 0, count: count * classes)
        out.withUnsafeMutableBufferPointer { p in
            for j in 0..<count {
                let i = subset?[j] ?? j
                let row = UnsafeMutableBufferPointer(rebasing: p[j * classes..<(j + 1) * classes])
                for k in 0..<classes { row[k] = scores[k * rows + i] }
                softmax(row)
            }
        }
        return out
    }

    /// Gradients and hessians of every class at `rows` (class-major, like the scores).
    public static func gradients(
        scores: UnsafePointer<Double>, labels: UnsafePointer<Float>, rowCount n: Int, classes: Int,
        gradients g: UnsafeMutablePointer<Float>, hessians h: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        let factor = Double(classes) / Double(classes - 1)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: classes) { p in
            for i in rows {
                for k in 0..<classes { p[k] = scores[k * n + i] }
                softmax(p)
                let label = Int(labels[i])
                for k in 0..<classes {
                    g[k * n + i] = Float(k == label ? p[k] - 1 : p[k])
                    h[k * n + i] = Float(max(factor * p[k] * (1 - p[k]), 1e-16))
                }
            }
        }
    }

    /// Each class's starting margin: the log of its (weighted) share of the rows, as LightGBM's
    /// boost_from_average starts; a class absent from the data starts at log(1e-15).
    public static func initialScores(labels: [Float], weights: [Float]?, classes: Int) -> [Double] {
        var mass = [Double](repeating: 0, count: classes)
        for i in labels.indices { mass[Int(labels[i])] += weights.map { Double($0[i]) } ?? 1 }
        let total = mass.reduce(0, +)
        return mass.map { log(max($0 / max(total, 1e-300), 1e-15)) }
    }

    /// The class count the labels need: one more than the largest label.
    public static func classCount(labels: [Float]) -> Int {
        Int(labels.max() ?? 0) + 1
    }
}
