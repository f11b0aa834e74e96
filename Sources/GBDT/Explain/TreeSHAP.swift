/// Exact path-dependent TreeSHAP (Lundberg, Erion and Lee 2018, "Consistent individualized feature
/// attribution for tree ensembles", Algorithm 2), as XGBoost's `TreeShap` implements it.
///
/// The value of a set S of known features is the tree's output when a row follows its own branch
/// at splits on features in S and, at every other split, both branches weighted by their share of
/// the node's cover (the path-dependent expectation). A leaf's output depends on S only through the
/// features on its path, so the walk keeps, for the unique features on the path so far, the
/// fraction of "zero" paths (feature unknown: the product of cover shares) and "one" paths (feature
/// known: whether the row goes that way), and the weights of every subset size (EXTEND). At a leaf,
/// UNWIND takes each feature out again to weigh its marginal contribution. A feature met twice on a
/// path is unwound first and extended with the products of both splits' fractions. Cost per row
/// and tree: O(leaves × depth²).
enum TreeSHAP {
    struct PathElement {
        var feature: Int32
        /// Fraction of zero paths (the feature unknown) that flow through here.
        var zero: Double
        /// Fraction of one paths (the feature known): 1 or 0.
        var one: Double
        /// The weight of the subsets of this size.
        var weight: Double
    }

    /// Path elements one walk of a tree of `depth` splits needs: a path of up to depth + 1
    /// elements per level, each level in its own slice.
    static func pathCapacity(depth: Int) -> Int { (depth + 2) * (depth + 3) / 2 }

    /// `r[k] = 1 / k` for the k a walk of a tree of `depth` splits needs (r[0] unused).
    static func reciprocals(depth: Int) -> [Double] { (0...depth + 2).map { $0 == 0 ? 0 : 1 / Double($0) } }

    /// Adds the contributions of `tree` for `row` to `phi` (one per feature). `path` holds
    /// `pathCapacity(depth: tree.depth)` elements of scratch.
    static func add(
        _ tree: SHAPTree, row: UnsafePointer<Float>, phi: UnsafeMutablePointer<Double>,
        path: UnsafeMutablePointer<PathElement>, reciprocals r: UnsafePointer<Double>
    ) {
        guard !tree.nodes.isEmpty else { return }  // a single leaf: all of it is the expected value
        tree.nodes.withUnsafeBufferPointer { nodes in
            tree.leafValues.withUnsafeBufferPointer { leaves in
                withUnsafeTemporaryAllocation(of: Bool.self, capacity: nodes.count) { lefts in
                    tree.route(row, into: lefts.baseAddress!)
                    recurse(
                        nodes.baseAddress!, leaves.baseAddress!, lefts.baseAddress!, phi, r, node: 0, path: path,
                        depth: 0, zero: 1, one: 1, feature: -1)
                }
            }
        }
    }

    /// One node. `path[0..<depth]` holds the unique path of the parent; this node's split (made by
    /// the parent on `feature`) is extended onto it.
    private static func recurse(
        _ nodes: UnsafePointer<SHAPTree.Node>, _ leaves: UnsafePointer<Double>, _ lefts: UnsafePointer<Bool>,
        _ phi: UnsafeMutablePointer<Double>, _ r: UnsafePointer<Double>, node: Int32,
        path: UnsafeMutablePointer<PathElement>, depth: Int,
        zero: Double, one: Double, feature: Int32
    ) {
        extend(path, depth, zero: zero, one: one, feature: feature, r)
        if node < 0 {
            let value = leaves[Int(~node)]
            for i in stride(from: 1, through: depth, by: 1) {
                let e = path[i]
                phi[Int(e.feature)] += unwoundSum(path, depth, i, r) * (e.one - e.zero) * value
            }
            return
        }
        let split = nodes[Int(node)]
        let left = lefts[Int(node)]
        let (hot, cold) = left ? (split.left, split.right) : (split.right, split.left)
        let (hotShare, coldShare) = left ? (split.leftShare, split.rightShare) : (split.rightShare, split.leftShare)
        // A feature already on the path: take it off, and carry its fractions into this split's.
        let child = path + depth + 1  // past this node's path, whatever the unwind leaves of it
        var depth = depth
        var incomingZero = 1.0
        var incomingOne = 1.0
        var k = 0
        while k <= depth && path[k].feature != split.feature { k += 1 }
        if k <= depth {
            incomingZero = path[k].zero
            incomingOne = path[k].one
            unwind(path, depth, k, r)
            depth -= 1
        }
        child.update(from: path, count: depth + 1)
        recurse(
            nodes, leaves, lefts, phi, r, node: hot, path: child, depth: depth + 1, zero: hotShare * incomingZero,
            one: incomingOne, feature: split.feature)
        // The cold branch with no cover contributes nothing to any subset's value.
        let coldZero = coldShare * incomingZero
        guard coldZero > 0 else { return }
        child.update(from: path, count: depth + 1)
        recurse(
            nodes, leaves, lefts, phi, r, node: cold, path: child, depth: depth + 1, zero: coldZero, one: 0,
            feature: split.feature)
    }

    /// EXTEND: appends an element at `depth` and updates the subset-size weights. `r[k]` is 1 / k.
    ///
    /// A one fraction is always 1 or 0 (a product of "the row goes this way" indicators), so it
    /// multiplies and divides as a branch; and the divisions by small integers are products with
    /// their reciprocals (a walk is bound by these chains of arithmetic).
    @inline(__always)
    static func extend(
        _ path: UnsafeMutablePointer<PathElement>, _ depth: Int, zero: Double, one: Double, feature: Int32,
        _ r: UnsafePointer<Double>
    ) {
        assert(one == 0 || one == 1)
        path[depth] = PathElement(feature: feature, zero: zero, one: one, weight: depth == 0 ? 1 : 0)
        let inverseSize = r[depth + 1]
        var i = depth - 1
        if one != 0 {
            while i >= 0 {
                let w = path[i].weight * inverseSize
                path[i + 1].weight += w * Double(i + 1)
                path[i].weight = zero * w * Double(depth - i)
                i -= 1
            }
        } else {
            while i >= 0 {
                path[i].weight = zero * path[i].weight * Double(depth - i) * inverseSize
                i -= 1
            }
        }
    }

    /// UNWIND: removes element `index` from a path of `depth + 1` elements, undoing its EXTEND.
    @inline(__always)
    static func unwind(
        _ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ index: Int, _ r: UnsafePointer<Double>
    ) {
        let one = path[index].one
        let zero = path[index].zero
        let size = Double(depth + 1)
        let inverseSize = r[depth + 1]
        var next = path[depth].weight
        var i = depth - 1
        if one != 0 {
            while i >= 0 {
                let t = path[i].weight
                let w = next * size * r[i + 1]
                path[i].weight = w
                next = t - w * zero * Double(depth - i) * inverseSize
                i -= 1
            }
        } else {
            let scale = size / zero
            while i >= 0 {
                path[i].weight = path[i].weight * scale * r[depth - i]
                i -= 1
            }
        }
        for j in index..<depth {
            path[j].feature = path[j + 1].feature
            path[j].zero = path[j + 1].zero
            path[j].one = path[j + 1].one
        }
    }

    /// The total weight of the path with element `index` unwound, without changing the path.
    @inline(__always)
    static func unwoundSum(
        _ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ index: Int, _ r: UnsafePointer<Double>
    ) -> Double {
        let one = path[index].one
        let zero = path[index].zero
        let size = Double(depth + 1)
        var total = 0.0
        var i = depth - 1
        if one != 0 {
            let zeroOverSize = zero * r[depth + 1]
            var next = path[depth].weight
            while i >= 0 {
                let t = next * size * r[i + 1]
                total += t
                next = path[i].weight - t * zeroOverSize * Double(depth - i)
                i -= 1
            }
        } else if zero != 0 {
            while i >= 0 {
                total += path[i].weight * r[depth - i]
                i -= 1
            }
            total *= size / zero
        }
        return total
    }
}
