/// A tree as TreeSHAP walks it: each split node with the share of the node's cover that goes to
/// each child, and the tree's expected output under those shares.
///
/// Cover is the hessian sum XGBoost calls `sum_hess` (the row count for squared error); a tree
/// whose hessians are all zero (a model file that left them out) uses its row counts, and a node
/// whose children both have zero cover splits evenly. A child's share is its cover over the sum of
/// both children's covers, so the shares of a node add up to 1 whatever rounding the stored node
/// cover carries (XGBoost divides by the node's own `sum_hess`, equal up to Float32 rounding).
struct SHAPTree: Sendable {
    struct Node: Sendable {
        var threshold: Float
        var feature: Int32
        /// Children as in `Tree`: an internal node's number, or `~leaf`.
        var left: Int32
        var right: Int32
        var defaultLeft: Bool
        /// A categorical split's index in `SHAPTree.categorySets`, or −1.
        var categorySet: Int32
        var leftShare: Double
        var rightShare: Double
    }

    var nodes: [Node]
    var categorySets: [[UInt32]]
    var leafValues: [Double]
    /// The cover-weighted mean of the leaf values: the tree's output when no feature is known.
    var expectedValue: Double
    /// Splits on the longest path from the root to a leaf.
    var depth: Int

    init(_ tree: Tree) {
        leafValues = tree.leafValue
        categorySets = tree.categorySets
        depth = tree.leafDepths.max() ?? 0
        let n = tree.internalNodes
        guard n > 0 else {
            nodes = []
            expectedValue = tree.leafValue.first ?? 0
            return
        }
        let useCounts = !(tree.internalHessian + tree.leafHessian).contains { $0 > 0 }
        func cover(_ child: Int32) -> Double {
            let c: Double
            if child < 0 {
                c = useCounts ? Double(tree.leafCount[Int(~child)]) : tree.leafHessian[Int(~child)]
            } else {
                c = useCounts ? Double(tree.internalCount[Int(child)]) : tree.internalHessian[Int(child)]
            }
            return c.isFinite ? max(c, 0) : 0
        }
        var nodes: [Node] = []
        nodes.reserveCapacity(n)
        for i in 0..<n {
            let (l, r) = (tree.leftChild[i], tree.rightChild[i])
            let (cl, cr) = (cover(l), cover(r))
            let total = cl + cr
            nodes.append(
                Node(
                    threshold: tree.threshold[i], feature: tree.splitFeature[i], left: l, right: r,
                    defaultLeft: tree.defaultLeft[i],
                    categorySet: tree.categoryIndex.isEmpty ? -1 : tree.categoryIndex[i],
                    leftShare: total > 0 ? cl / total : 0.5,
                    rightShare: total > 0 ? cr / total : 0.5))
        }
        self.nodes = nodes
        expectedValue = 0
        expectedValue = expected(0)
    }

    private func expected(_ child: Int32) -> Double {
        if child < 0 { return leafValues[Int(~child)] }
        let node = nodes[Int(child)]
        return node.leftShare * expected(node.left) + node.rightShare * expected(node.right)
    }

    /// Whether `row` goes left at each node (the recursion asks of every node it visits).
    func route(_ row: UnsafePointer<Float>, into lefts: UnsafeMutablePointer<Bool>) {
        for (i, node) in nodes.enumerated() { lefts[i] = goesLeft(node, row[Int(node.feature)]) }
    }

    /// Whether a row goes left at a node: as `Tree.leaf(for:)` routes it, missing values by
    /// the node's default direction.
    @inline(__always)
    func goesLeft(_ node: Node, _ x: Float) -> Bool {
        if node.categorySet >= 0 { return CategorySet.contains(categorySets[Int(node.categorySet)], x) }
        return x.isNaN ? node.defaultLeft : x <= node.threshold
    }
}
