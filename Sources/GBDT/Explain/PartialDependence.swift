import FsmlCore

/// Partial dependence of a model's output on one feature, and the individual (ICE) curves it
/// averages.
///
/// `recursion` needs no data: it walks each tree once per grid value, following the feature's own
/// splits and weighting both branches of every other split by the training rows (or hessian) each
/// received, as Friedman's weighted traversal and scikit-learn's method="recursion" do. It is in
/// margin space and equals the brute-force average over the training rows when the features are
/// independent in them. `individual` replaces the feature in each given row and scores it: the ICE
/// curves, whose mean is the brute-force partial dependence on that data, in the model's output
/// (probabilities, calibrated if the model is).
public enum PartialDependence {
    /// The margin at each grid value of `feature`, by weighted tree traversal.
    public static func recursion(_ model: GBDTModel, feature: Int, grid: [Float]) -> [Double] {
        grid.map { v in
            var total = model.initScore
            for tree in model.trees { total += expected(tree, feature: feature, value: v) }
            return total
        }
    }

    static func expected(_ t: Tree, feature: Int, value: Float) -> Double {
        if t.splitFeature.isEmpty { return t.leafValue.first ?? 0 }
        let counted = t.leafCount.reduce(0, +) > 0
        func cover(_ child: Int32) -> Double {
            if child < 0 {
                let leaf = Int(~child)
                return counted ? Double(t.leafCount[leaf]) : t.leafHessian[leaf]
            }
            return counted ? Double(t.internalCount[Int(child)]) : t.internalHessian[Int(child)]
        }
        func walk(_ node: Int32) -> Double {
            if node < 0 { return t.leafValue[Int(~node)] }
            let n = Int(node)
            let (left, right) = (t.leftChild[n], t.rightChild[n])
            if Int(t.splitFeature[n]) == feature {
                let goLeft = t.goesLeft(n, value)
                return walk(goLeft ? left : right)
            }
            let (l, r) = (cover(left), cover(right))
            guard l + r > 0 else { return 0.5 * (walk(left) + walk(right)) }
            return (l * walk(left) + r * walk(right)) / (l + r)
        }
        return walk(0)
    }

    /// For each row of `rows`, the prediction at each grid value of `feature` (the row's other
    /// values kept): one ICE curve per row.
    public static func individual(
        _ predictor: FlatPredictor, data: DenseMatrix, feature: Int, grid: [Float], rows: [Int]
    ) -> [[Double]] {
        var row = [Float](repeating: 0, count: data.columns)
        return rows.map { r in
            for c in 0..<data.columns { row[c] = data.values[r * data.columns + c] }
            return grid.map { v in
                row[feature] = v
                return predictor.predict(row)
            }
        }
    }

    /// The mean of ICE curves: the brute-force partial dependence.
    public static func average(_ curves: [[Double]]) -> [Double] {
        guard let first = curves.first else { return [] }
        var sum = [Double](repeating: 0, count: first.count)
        for c in curves { for (i, v) in c.enumerated() { sum[i] += v } }
        return sum.map { $0 / Double(curves.count) }
    }

    /// Grid values for a feature: its distinct values when there are at most `resolution`, else
    /// `resolution` points evenly spaced between its 5th and 95th percentiles (scikit-learn's
    /// defaults). Missing values are left out.
    public static func grid(_ values: [Float], resolution: Int = 50) -> [Float] {
        let present = values.filter { !$0.isNaN }.sorted()
        guard let low = present.first else { return [] }
        var distinct: [Float] = [low]
        for v in present.dropFirst() where v != distinct.last! {
            distinct.append(v)
            if distinct.count > resolution { break }
        }
        if distinct.count <= resolution { return distinct }
        func percentile(_ q: Double) -> Float {
            let position = q * Double(present.count - 1)
            let i = Int(position)
            let j = min(i + 1, present.count - 1)
            return present[i] + (present[j] - present[i]) * Float(position - Double(i))
        }
        let (a, b) = (percentile(0.05), percentile(0.95))
        return (0..<resolution).map { a + (b - a) * Float($0) / Float(resolution - 1) }
    }
}
