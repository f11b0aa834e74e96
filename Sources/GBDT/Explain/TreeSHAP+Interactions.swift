import FsmlCore

/// SHAP interaction values (Lundberg et al. 2018, §4; XGBoost's `pred_interactions`): the walk
/// of `TreeSHAP` with one feature conditioned on, known (`condition` > 0) or unknown (< 0). Its
/// splits are never put on the path; a known one follows the row, an unknown one both branches
/// weighted by cover. Half the difference of the two walks' contributions of feature j is the
/// interaction of i and j.
extension TreeSHAP {
    static func addConditioned(
        _ tree: SHAPTree, row: UnsafePointer<Float>, phi: UnsafeMutablePointer<Double>,
        path: UnsafeMutablePointer<PathElement>, reciprocals r: UnsafePointer<Double>, condition: Int,
        feature conditioned: Int32
    ) {
        guard !tree.nodes.isEmpty else { return }
        tree.nodes.withUnsafeBufferPointer { nodes in
            tree.leafValues.withUnsafeBufferPointer { leaves in
                withUnsafeTemporaryAllocation(of: Bool.self, capacity: nodes.count) { lefts in
                    tree.route(row, into: lefts.baseAddress!)
                    recurseConditioned(
                        nodes.baseAddress!, leaves.baseAddress!, lefts.baseAddress!, phi, r, node: 0, path: path,
                        depth: 0, zero: 1, one: 1, feature: -1, condition: condition, conditioned: conditioned,
                        fraction: 1)
                }
            }
        }
    }

    /// `recurse` with the conditioned feature's splits kept off the path; `fraction` is the share of
    /// the conditioned feature's walk that reaches this node.
    private static func recurseConditioned(
        _ nodes: UnsafePointer<SHAPTree.Node>, _ leaves: UnsafePointer<Double>, _ lefts: UnsafePointer<Bool>,
        _ phi: UnsafeMutablePointer<Double>, _ r: UnsafePointer<Double>, node: Int32,
        path: UnsafeMutablePointer<PathElement>, depth: Int, zero: Double, one: Double, feature: Int32,
        condition: Int, conditioned: Int32, fraction: Double
    ) {
        guard fraction != 0 else { return }
        let extended = feature != conditioned
        if extended { extend(path, depth, zero: zero, one: one, feature: feature, r) }
        var last = extended ? depth : depth - 1
        if node < 0 {
            let value = leaves[Int(~node)] * fraction
            for i in stride(from: 1, through: last, by: 1) {
                let e = path[i]
                phi[Int(e.feature)] += unwoundSum(path, last, i, r) * (e.one - e.zero) * value
            }
            return
        }
        let split = nodes[Int(node)]
        let left = lefts[Int(node)]
        let (hot, cold) = left ? (split.left, split.right) : (split.right, split.left)
        let (hotShare, coldShare) = left ? (split.leftShare, split.rightShare) : (split.rightShare, split.leftShare)
        let child = path + last + 1
        var incomingZero = 1.0
        var incomingOne = 1.0
        var k = 0
        while k <= last && path[k].feature != split.feature { k += 1 }
        if k <= last {
            incomingZero = path[k].zero
            incomingOne = path[k].one
            unwind(path, last, k, r)
            last -= 1
        }
        var hotFraction = fraction
        var coldFraction = fraction
        if split.feature == conditioned {
            if condition > 0 {
                coldFraction = 0
            } else {
                hotFraction *= hotShare
                coldFraction *= coldShare
            }
        }
        child.update(from: path, count: last + 1)
        recurseConditioned(
            nodes, leaves, lefts, phi, r, node: hot, path: child, depth: last + 1, zero: hotShare * incomingZero,
            one: incomingOne, feature: split.feature, condition: condition, conditioned: conditioned,
            fraction: hotFraction)
        let coldZero = coldShare * incomingZero
        guard coldZero > 0 || split.feature == conditioned else { return }
        child.update(from: path, count: last + 1)
        recurseConditioned(
            nodes, leaves, lefts, phi, r, node: cold, path: child, depth: last + 1, zero: coldZero, one: 0,
            feature: split.feature, condition: condition, conditioned: conditioned, fraction: coldFraction)
    }
}

extension TreeExplainer {
    /// SHAP interaction values of a row, as XGBoost's `pred_interactions` lays them out:
    /// `(featureCount + 1)²` values, row i holding feature i's interactions with each j (split
    /// evenly: [i][j] = [j][i]), its main effect on the diagonal, and the bias at the last diagonal
    /// place. Row i adds up to feature i's contribution; everything adds up to the margin.
    public func interactions(_ row: [Float]) -> [Double] {
        precondition(row.count >= featureCount, "the row has \(row.count) values, the model needs \(featureCount)")
        let width = featureCount + 1
        var out = [Double](repeating: 0, count: width * width)
        let main = contributions(row)
        var on: [Double] = []
        var off: [Double] = []
        row.withUnsafeBufferPointer { x in
            reciprocals.withUnsafeBufferPointer { r in
                withUnsafeTemporaryAllocation(of: TreeSHAP.PathElement.self, capacity: pathCapacity) { path in
                    for i in 0..<featureCount {
                        for condition in [1, -1] {
                            var phi = [Double](repeating: 0, count: width)
                            phi.withUnsafeMutableBufferPointer { p in
                                for t in trees {
                                    TreeSHAP.addConditioned(
                                        t, row: x.baseAddress!, phi: p.baseAddress!, path: path.baseAddress!,
                                        reciprocals: r.baseAddress!, condition: condition, feature: Int32(i))
                                }
                            }
                            if condition > 0 { on = phi } else { off = phi }
                        }
                        var diagonal = main[i]
                        for j in 0..<featureCount where j != i {
                            let v = (on[j] - off[j]) / 2
                            out[i * width + j] = v
                            diagonal -= v
                        }
                        out[i * width + i] = diagonal
                    }
                }
            }
        }
        out[width * width - 1] = main[featureCount]
        return out
    }
}

extension TreeExplainer {
    /// Pairs of features by mean |interaction| over the given rows (both halves, [i][j] + [j][i]),
    /// largest first, zeros left out; for the report's interaction chart. Rows on all cores.
    public func interactionImportance(
        _ matrix: DenseMatrix, rows: [Int], threads: Int = Parallel.defaultThreads
    ) -> [(first: Int, second: Int, meanAbsolute: Double)] {
        let width = featureCount + 1
        let perRow = Parallel.map(rows.count, threads: threads) { k in
            interactions(Array(matrix.row(rows[k])))
        }
        var pairs: [(first: Int, second: Int, meanAbsolute: Double)] = []
        for i in 0..<featureCount {
            for j in i + 1..<max(i + 1, featureCount) {
                let sum = perRow.reduce(0.0) { $0 + abs($1[i * width + j]) + abs($1[j * width + i]) }
                let mean = rows.isEmpty ? 0 : sum / Double(rows.count)
                if mean > 0 { pairs.append((i, j, mean)) }
            }
        }
        return pairs.sorted { ($0.meanAbsolute, $1.first, $1.second) > ($1.meanAbsolute, $0.first, $0.second) }
    }
}
