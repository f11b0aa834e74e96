/// One regression tree, in arrays as LightGBM keeps them. Internal nodes are numbered 0..<n−1 for
/// n leaves, the root is node 0; a child index below zero is a leaf, `~child` its number.
///
/// A row goes left at a node when its value is `<= threshold`, or when it is missing (NaN) and the
/// node's `defaultLeft` is set. At a categorical split it goes left when its category is in the
/// node's set (`CategorySet`), and right otherwise, missing values included. (XGBoost's files say `<` instead; the exporter shifts thresholds by
/// one Float32 step so both rules route every value the same way.)
public struct Tree: Sendable, Equatable {
    public var splitFeature: [Int32] = []
    public var threshold: [Float] = []
    public var defaultLeft: [Bool] = []
    public var leftChild: [Int32] = []
    public var rightChild: [Int32] = []
    public var splitGain: [Double] = []
    /// The weight the node would have as a leaf, after shrinkage.
    public var internalValue: [Double] = []
    public var internalHessian: [Double] = []
    public var internalCount: [Int] = []
    public var leafValue: [Double] = []
    public var leafHessian: [Double] = []
    public var leafCount: [Int] = []
    /// Per internal node: −1 for a split on a threshold, else the index in `categorySets` of the
    /// categorical split's set. Empty when the tree has no categorical split.
    public var categoryIndex: [Int32] = []
    /// The category sets of the categorical splits, as bitsets (`CategorySet`).
    public var categorySets: [[UInt32]] = []
    /// Training only: the bin threshold of each split, for routing binned rows.
    var thresholdBin: [UInt8] = []
    /// Training only: the bins each categorical split sends left, by category set.
    var categoryBins: [BinSet] = []

    public init() {}

    /// A tree with a single leaf.
    public init(constant value: Double, count: Int = 0, hessian: Double = 0) {
        leafValue = [value]
        leafCount = [count]
        leafHessian = [hessian]
    }

    /// The tree with `delta` added to every output, leaf and internal: how a starting margin rides
    /// in a tree (LightGBM keeps none apart).
    public func shifted(by delta: Double) -> Tree {
        var t = self
        t.leafValue = leafValue.map { $0 + delta }
        t.internalValue = internalValue.map { $0 + delta }
        return t
    }

    public var leaves: Int { leafValue.count }
    public var internalNodes: Int { splitFeature.count }
    public var hasCategoricalSplits: Bool { !categorySets.isEmpty }

    /// The category set of node `n`, when it is a categorical split.
    @inline(__always)
    public func categories(_ n: Int) -> [UInt32]? {
        guard !categoryIndex.isEmpty, categoryIndex[n] >= 0 else { return nil }
        return categorySets[Int(categoryIndex[n])]
    }

    /// Whether a value goes left at internal node `n`.
    @inline(__always)
    public func goesLeft(_ n: Int, _ x: Float) -> Bool {
        if let set = categories(n) { return CategorySet.contains(set, x) }
        return x.isNaN ? defaultLeft[n] : x <= threshold[n]
    }

    /// The leaf a row of raw values reaches.
    @inline(__always)
    public func leaf(for row: UnsafePointer<Float>) -> Int {
        if splitFeature.isEmpty { return 0 }
        var node: Int32 = 0
        while node >= 0 {
            let n = Int(node)
            node = goesLeft(n, row[Int(splitFeature[n])]) ? leftChild[n] : rightChild[n]
        }
        return Int(~node)
    }

    public func predict(_ row: UnsafePointer<Float>) -> Double { leafValue[leaf(for: row)] }

    /// Depth of every leaf (the root is depth 0).
    public var leafDepths: [Int] {
        var depths = [Int](repeating: 0, count: leaves)
        guard !splitFeature.isEmpty else { return depths }
        var stack: [(Int32, Int)] = [(0, 0)]
        while let (node, depth) = stack.popLast() {
            for child in [leftChild[Int(node)], rightChild[Int(node)]] {
                if child < 0 { depths[Int(~child)] = depth + 1 } else { stack.append((child, depth + 1)) }
            }
        }
        return depths
    }

    /// Checks the structure: every node reached once, children in range, no cycles.
    /// The threshold a tree keeps for a bin's upper bound. The last bin's bound is +infinity (the
    /// split that sends every value left and missing values right), which JSON cannot hold and
    /// XGBoost's `x < split_condition` cannot express; the largest finite Float sends every finite
    /// value left just the same (an input of +infinity goes right).
    public static func storableThreshold(_ bound: Float) -> Float {
        bound == .infinity ? .greatestFiniteMagnitude : bound
    }

    public func validate() -> String? {
        let n = splitFeature.count
        guard leafValue.count == n + 1 else {
            return "\(n) internal nodes need \(n + 1) leaves, found \(leafValue.count)"
        }
        let nodeArrays = [
            threshold.count, defaultLeft.count, leftChild.count, rightChild.count, splitGain.count, internalValue.count,
            internalHessian.count, internalCount.count,
        ]
        for count in nodeArrays where count != n { return "node arrays differ in length" }
        for count in [leafHessian.count, leafCount.count] where count != n + 1 { return "leaf arrays differ in length" }
        if !categoryIndex.isEmpty || !categorySets.isEmpty {
            guard categoryIndex.count == n else {
                return "category_index has \(categoryIndex.count) entries for \(n) nodes"
            }
            let used = categoryIndex.filter { $0 >= 0 }.map(Int.init)
            guard used.sorted() == Array(0..<categorySets.count) else {
                return "each category set must belong to exactly one node"
            }
        }
        if leafValue.contains(where: { !$0.isFinite }) { return "a leaf value is not finite" }
        if n == 0 { return nil }
        var seenNodes = [Bool](repeating: false, count: n)
        var seenLeaves = [Bool](repeating: false, count: n + 1)
        var stack: [Int32] = [0]
        while let node = stack.popLast() {
            if node < 0 {
                let leaf = Int(~node)
                guard leaf < n + 1, !seenLeaves[leaf] else { return "leaf \(leaf) is out of range or reached twice" }
                seenLeaves[leaf] = true
            } else {
                let i = Int(node)
                guard i < n, !seenNodes[i] else { return "node \(i) is out of range or reached twice" }
                seenNodes[i] = true
                stack.append(leftChild[i])
                stack.append(rightChild[i])
            }
        }
        guard seenNodes.allSatisfy({ $0 }) && seenLeaves.allSatisfy({ $0 }) else { return "unreachable nodes" }
        return nil
    }
}
