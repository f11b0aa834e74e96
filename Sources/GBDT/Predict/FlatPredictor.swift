import FsmlCore

/// The model's trees flattened into one array of small nodes for fast scoring.
///
/// Nodes are laid out breadth first with each node's two children side by side, so a step is
/// `next = left + goesRight`; leaves loop to themselves (threshold +∞, missing values left). A walk
/// is therefore a fixed number of branch-free steps. Trees are walked eight at a time, interleaved,
/// so the memory loads of eight walks overlap, and trees of similar depth are grouped so that few
/// steps are idle. Rows without missing values take a shorter step. Outputs are added in tree
/// order, so results equal `GBDTModel.margin` bit for bit. The single-row path allocates nothing.
///
/// Models of up to 65 536 nodes and 65 536 features use 8-byte nodes, which keep a few hundred
/// trees in the first-level cache; larger models use 12-byte nodes.
public struct FlatPredictor: Sendable {
    static let lanes = 8

    /// One of the three is used; binding an array out of an enum on every call would cost a
    /// retain and a release. Models with categorical splits of categories below 32 use
    /// `categoricalNodes`, which hold the set in the node.
    private let compactNodes: [CompactNode]
    private let wideNodes: [WideNode]
    private let categoricalNodes: [CategoricalNode]
    /// 1 where missing values go left, by node.
    private let missingLeft: [UInt8]
    /// Leaf outputs, by node index (zero on split nodes).
    private let outputs: [Double]
    /// Roots in walking order (by depth), and the tree each is.
    private let roots: [Int32]
    private let treeOf: [Int32]
    /// Steps needed by each group of `lanes` trees: the deepest leaf among them.
    private let groupSteps: [Int]
    public let initScore: Double
    /// Outputs a row: tree t adds to class t mod numClass.
    public let numClass: Int
    public let objective: ObjectiveKind
    public let calibration: Calibration?
    public let featureCount: Int
    /// A model with a categorical split of a category 32 or above, which no flat node holds:
    /// walked tree by tree.
    private let categoricalModel: GBDTModel?

    public init(_ model: GBDTModel) {
        let categorical = model.trees.contains { $0.hasCategoricalSplits }
        let wideSets = model.trees.contains { $0.categorySets.contains { $0.count > 1 } }
        categoricalModel = wideSets ? model : nil
        var layout: [(threshold: Float, feature: Int, missingLeft: Bool, left: Int)] = []
        /// By node: the category set of a categorical split (one word), nil otherwise.
        var sets: [UInt32?] = []
        var outputs: [Double] = []
        var roots: [Int32] = []
        var depths: [Int] = []
        for tree in model.trees {
            let base = layout.count
            roots.append(Int32(base))
            depths.append(tree.leafDepths.max() ?? 0)
            let total = tree.internalNodes + tree.leaves
            layout.append(
                contentsOf: repeatElement((threshold: Float(0), feature: 0, missingLeft: false, left: 0), count: total))
            outputs.append(contentsOf: repeatElement(0, count: total))
            sets.append(contentsOf: repeatElement(nil, count: total))
            var queue: [(child: Int32, slot: Int)] = [(tree.internalNodes == 0 ? ~0 : 0, base)]
            var head = 0
            var next = base + 1
            while head < queue.count {
                let (child, slot) = queue[head]
                head += 1
                if child < 0 {
                    layout[slot] = (.infinity, 0, true, slot)
                    outputs[slot] = tree.leafValue[Int(~child)]
                } else {
                    let n = Int(child)
                    layout[slot] = (tree.threshold[n], Int(tree.splitFeature[n]), tree.defaultLeft[n], next)
                    sets[slot] = tree.categories(n).map { $0.first ?? 0 }
                    queue.append((tree.leftChild[n], next))
                    queue.append((tree.rightChild[n], next + 1))
                    next += 2
                }
            }
        }
        missingLeft = layout.map { $0.missingLeft ? 1 : 0 }
        if categorical {
            categoricalNodes = layout.indices.map { i in
                let n = layout[i]
                var node = CategoricalNode(
                    threshold: n.threshold, feature: n.feature, missingLeft: n.missingLeft, left: n.left)
                if let set = sets[i] { node.makeCategorical(set) }
                return node
            }
            compactNodes = []
            wideNodes = []
        } else if layout.count <= Int(UInt16.max) + 1 && model.featureCount <= Int(UInt16.max) + 1 {
            categoricalNodes = []
            compactNodes = layout.map {
                CompactNode(threshold: $0.threshold, feature: $0.feature, missingLeft: $0.missingLeft, left: $0.left)
            }
            wideNodes = []
        } else {
            categoricalNodes = []
            compactNodes = []
            wideNodes = layout.map {
                WideNode(threshold: $0.threshold, feature: $0.feature, missingLeft: $0.missingLeft, left: $0.left)
            }
        }
        let order = depths.indices.sorted { (depths[$0], $0) < (depths[$1], $1) }
        var steps: [Int] = []
        var g = 0
        while g < order.count {
            steps.append(order[g..<min(g + Self.lanes, order.count)].map { depths[$0] }.max()!)
            g += Self.lanes
        }
        self.outputs = outputs
        self.roots = order.map { roots[$0] }
        treeOf = order.map { Int32($0) }
        groupSteps = steps
        initScore = model.initScore
        numClass = max(model.numClass, 1)
        objective = model.objective
        calibration = model.calibration
        featureCount = model.featureCount
    }

    /// The margin of one row (`featureCount` values).
    @inline(__always)
    public func margin(_ row: UnsafePointer<Float>) -> Double {
        if let categoricalModel { return categoricalModel.margin(row) }
        var missing = false
        for j in 0..<featureCount where row[j] != row[j] { missing = true }
        if !categoricalNodes.isEmpty { return walk(categoricalNodes, row, missing: missing, classSums: nil) }
        return wideNodes.isEmpty
            ? walk(compactNodes, row, missing: missing, classSums: nil)
            : walk(wideNodes, row, missing: missing, classSums: nil)
    }

    /// Every class's margin of one row into `out` (`numClass` values), in tree order per class.
    public func margins(_ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Double>) {
        if let m = categoricalModel {
            for k in 0..<numClass { out[k] = initScore }
            for (t, tree) in m.trees.enumerated() { out[t % numClass] += tree.predict(row) }
            return
        }
        var missing = false
        for j in 0..<featureCount where row[j] != row[j] { missing = true }
        for k in 0..<numClass { out[k] = initScore }
        if !categoricalNodes.isEmpty {
            _ = walk(categoricalNodes, row, missing: missing, classSums: out)
            return
        }
        _ =
            wideNodes.isEmpty
            ? walk(compactNodes, row, missing: missing, classSums: out)
            : walk(wideNodes, row, missing: missing, classSums: out)
    }

    /// With `classSums`, each tree's output is added to its class there instead of to the sum.
    @inline(__always)
    private func walk<N: FlatNode>(
        _ nodeArray: [N], _ row: UnsafePointer<Float>, missing: Bool, classSums: UnsafeMutablePointer<Double>?
    ) -> Double {
        let n = roots.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(n, 1)) { perTree in
            nodeArray.withUnsafeBufferPointer { nodes in
                missingLeft.withUnsafeBufferPointer { flags in
                    outputs.withUnsafeBufferPointer { outputs in
                        roots.withUnsafeBufferPointer { roots in
                            treeOf.withUnsafeBufferPointer { treeOf in
                                var g = 0
                                var t = 0
                                while t < n {
                                    let width = min(Self.lanes, n - t)
                                    let steps = groupSteps[g]
                                    if width == Self.lanes {
                                        var a0 = roots[t], a1 = roots[t + 1], a2 = roots[t + 2], a3 = roots[t + 3]
                                        var a4 = roots[t + 4], a5 = roots[t + 5], a6 = roots[t + 6], a7 = roots[t + 7]
                                        if missing {
                                            for _ in 0..<steps {
                                                a0 = nodes[Int(a0)].step(flags[Int(a0)], row)
                                                a1 = nodes[Int(a1)].step(flags[Int(a1)], row)
                                                a2 = nodes[Int(a2)].step(flags[Int(a2)], row)
                                                a3 = nodes[Int(a3)].step(flags[Int(a3)], row)
                                                a4 = nodes[Int(a4)].step(flags[Int(a4)], row)
                                                a5 = nodes[Int(a5)].step(flags[Int(a5)], row)
                                                a6 = nodes[Int(a6)].step(flags[Int(a6)], row)
                                                a7 = nodes[Int(a7)].step(flags[Int(a7)], row)
                                            }
                                        } else {
                                            for _ in 0..<steps {
                                                a0 = nodes[Int(a0)].completeStep(row)
                                                a1 = nodes[Int(a1)].completeStep(row)
                                                a2 = nodes[Int(a2)].completeStep(row)
                                                a3 = nodes[Int(a3)].completeStep(row)
                                                a4 = nodes[Int(a4)].completeStep(row)
                                                a5 = nodes[Int(a5)].completeStep(row)
                                                a6 = nodes[Int(a6)].completeStep(row)
                                                a7 = nodes[Int(a7)].completeStep(row)
                                            }
                                        }
                                        perTree[Int(treeOf[t])] = outputs[Int(a0)]
                                        perTree[Int(treeOf[t + 1])] = outputs[Int(a1)]
                                        perTree[Int(treeOf[t + 2])] = outputs[Int(a2)]
                                        perTree[Int(treeOf[t + 3])] = outputs[Int(a3)]
                                        perTree[Int(treeOf[t + 4])] = outputs[Int(a4)]
                                        perTree[Int(treeOf[t + 5])] = outputs[Int(a5)]
                                        perTree[Int(treeOf[t + 6])] = outputs[Int(a6)]
                                        perTree[Int(treeOf[t + 7])] = outputs[Int(a7)]
                                    } else {
                                        for k in t..<t + width {
                                            var node = roots[k]
                                            for _ in 0..<steps { node = nodes[Int(node)].step(flags[Int(node)], row) }
                                            perTree[Int(treeOf[k])] = outputs[Int(node)]
                                        }
                                    }
                                    t += width
                                    g += 1
                                }
                                if let classSums {
                                    for k in 0..<n { classSums[k % numClass] += perTree[k] }
                                    return 0
                                }
                                var sum = initScore
                                for k in 0..<n { sum += perTree[k] }
                                return sum
                            }
                        }
                    }
                }
            }
        }
    }

    /// The prediction (probability or value) of one row.
    @inline(__always)
    public func predict(_ row: UnsafePointer<Float>) -> Double { probability(margin(row)) }

    @inline(__always)
    func probability(_ margin: Double) -> Double {
        let p = objective.transform(margin)
        guard let calibration else { return p }
        return calibration.apply(p)
    }

    public func predict(_ row: [Float]) -> Double { row.withUnsafeBufferPointer { predict($0.baseAddress!) } }

    /// Predictions for every row, on all cores (rows split in fixed blocks; each row's result does
    /// not depend on the split). A multiclass model gives `numClass` probabilities (or margins) a
    /// row, row after row.
    public func predict(
        _ matrix: DenseMatrix, threads: Int = Parallel.defaultThreads, margins: Bool = false
    ) -> [Double] {
        precondition(
            matrix.columns >= featureCount, "the data has \(matrix.columns) columns, the model needs \(featureCount)")
        if numClass > 1 { return predictClasses(matrix, threads: threads, margins: margins) }
        var out = [Double](repeating: 0, count: matrix.rows)
        let block = 4096
        let blocks = (matrix.rows + block - 1) / block
        out.withUnsafeMutableBufferPointer { result in
            let res = UncheckedBox(result)
            matrix.values.withUnsafeBufferPointer { values in
                let v = UncheckedBox(values)
                Parallel.forEach(blocks, threads: threads) { b in
                    for r in b * block..<min((b + 1) * block, matrix.rows) {
                        let m = margin(v.value.baseAddress! + r * matrix.columns)
                        res.value[r] = margins ? m : probability(m)
                    }
                }
            }
        }
        return out
    }
}

extension FlatPredictor {
    func predictClasses(_ matrix: DenseMatrix, threads: Int, margins: Bool) -> [Double] {
        let classes = numClass
        var out = [Double](repeating: 0, count: matrix.rows * classes)
        let block = 4096
        out.withUnsafeMutableBufferPointer { result in
            let res = UncheckedBox(result)
            matrix.values.withUnsafeBufferPointer { values in
                let v = UncheckedBox(values)
                Parallel.forEach((matrix.rows + block - 1) / block, threads: threads) { b in
                    for r in b * block..<min((b + 1) * block, matrix.rows) {
                        let row = UnsafeMutableBufferPointer(rebasing: res.value[r * classes..<(r + 1) * classes])
                        self.margins(v.value.baseAddress! + r * matrix.columns, into: row.baseAddress!)
                        if !margins { MulticlassObjective.softmax(row) }
                    }
                }
            }
        }
        return out
    }
}

/// A flattened tree node: where a row goes from here.
protocol FlatNode: Sendable {
    init(threshold: Float, feature: Int, missingLeft: Bool, left: Int)
    /// The next node: right (left + 1) when x > threshold, or when x is missing and missing values
    /// go right (`missingLeft` is 0); leaves return themselves.
    func step(_ missingLeft: UInt8, _ row: UnsafePointer<Float>) -> Int32
    /// The step for a row without missing values: right exactly when x > threshold.
    func completeStep(_ row: UnsafePointer<Float>) -> Int32
}

/// 8 bytes: the threshold, a 16-bit feature index, a 16-bit child index. Where missing values go
/// is kept apart (`FlatPredictor.missingLeft`), for the rows that have some.
struct CompactNode: FlatNode {
    var threshold: Float
    var feature: UInt16
    var left: UInt16

    init(threshold: Float, feature: Int, missingLeft: Bool, left: Int) {
        self.threshold = threshold
        self.feature = UInt16(feature)
        self.left = UInt16(left)
    }

    @inline(__always)
    func step(_ missingLeft: UInt8, _ row: UnsafePointer<Float>) -> Int32 {
        let x = row[Int(feature)]
        let notLE = Int32(unsafeBitCast(!(x <= threshold), to: UInt8.self))
        let nanLeft = Int32(unsafeBitCast(x != x, to: UInt8.self)) & Int32(missingLeft)
        return Int32(left) &+ (notLE & (1 ^ nanLeft))
    }

    @inline(__always)
    func completeStep(_ row: UnsafePointer<Float>) -> Int32 {
        Int32(left) &+ Int32(unsafeBitCast(row[Int(feature)] > threshold, to: UInt8.self))
    }
}

/// A node of a model with categorical splits: a threshold split as `WideNode`, or a categorical
/// one whose set of categories below 32 is `categories` (bit c: category c goes left; any other
/// value, and a missing one, goes right, as `CategorySet` routes).
struct CategoricalNode: FlatNode {
    var threshold: Float
    var feature: Int32
    var left: Int32
    var categories: UInt32 = 0
    var isCategorical = false

    init(threshold: Float, feature: Int, missingLeft: Bool, left: Int) {
        self.threshold = threshold
        self.feature = Int32(feature)
        self.left = Int32(left)
    }

    mutating func makeCategorical(_ set: UInt32) {
        categories = set
        isCategorical = true
    }

    @inline(__always)
    func step(_ missingLeft: UInt8, _ row: UnsafePointer<Float>) -> Int32 {
        let x = row[Int(feature)]
        if isCategorical { return categoryStep(x) }
        let notLE = Int32(unsafeBitCast(!(x <= threshold), to: UInt8.self))
        let nanLeft = Int32(unsafeBitCast(x != x, to: UInt8.self)) & Int32(missingLeft)
        return left &+ (notLE & (1 ^ nanLeft))
    }

    @inline(__always)
    func completeStep(_ row: UnsafePointer<Float>) -> Int32 {
        let x = row[Int(feature)]
        if isCategorical { return categoryStep(x) }
        return left &+ Int32(unsafeBitCast(x > threshold, to: UInt8.self))
    }

    /// The integer part of x (toward zero) in the set goes left; NaN fails both comparisons.
    @inline(__always)
    private func categoryStep(_ x: Float) -> Int32 {
        guard x > -1 && x < 32 else { return left &+ 1 }
        return left &+ Int32(1 &- (categories >> UInt32(Int(x)) & 1))
    }
}

/// 12 bytes, for models too large for `CompactNode`.
struct WideNode: FlatNode {
    var threshold: Float
    var feature: Int32
    var left: Int32

    init(threshold: Float, feature: Int, missingLeft: Bool, left: Int) {
        self.threshold = threshold
        self.feature = Int32(feature)
        self.left = Int32(left)
    }

    @inline(__always)
    func step(_ missingLeft: UInt8, _ row: UnsafePointer<Float>) -> Int32 {
        let x = row[Int(feature)]
        let notLE = Int32(unsafeBitCast(!(x <= threshold), to: UInt8.self))
        let nanLeft = Int32(unsafeBitCast(x != x, to: UInt8.self)) & Int32(missingLeft)
        return left &+ (notLE & (1 ^ nanLeft))
    }

    @inline(__always)
    func completeStep(_ row: UnsafePointer<Float>) -> Int32 {
        left &+ Int32(unsafeBitCast(row[Int(feature)] > threshold, to: UInt8.self))
    }
}
