import FsmlCore

/// Grows one tree leaf by leaf (best first, as LightGBM does): the leaf whose best split gains
/// most is split next, until `numLeaves` leaves, no split gains more than `minGainToSplit`, or every
/// leaf is at `maxDepth`.
///
/// Histograms: of the two children of a split, the one with fewer rows is built from its rows and
/// the other is the parent's histogram minus it.
final class TreeLearner {
    let data: BinnedData
    let params: TrainingParams
    let math: SplitMath
    let constraints: SplitConstraints
    let layout: HistogramLayout
    /// The threads every parallel step of growing a tree runs on (the booster's too).
    let team: WorkerTeam
    private let partition: DataPartition
    private let builder: HistogramBuilder
    /// One histogram per leaf; swapped, not copied, when leaves split.
    private var histograms: [UnsafeMutablePointer<SIMD2<Double>>]
    /// (gradient, hessian) of every row, refreshed each tree. Float, as the objective computes them:
    /// half the memory to gather, and widened exactly to Double where they are summed.
    private let pairs: UnsafeMutablePointer<SIMD2<Float>>
    private let codes: UnsafePointer<UInt8>
    /// Per feature, copied out of the bin mappers: the split finder asks for each feature of
    /// every leaf, where reading a mapper would copy (and retain) its arrays.
    private let trivial: [Bool]
    private let categorical: [Bool]

    init(data: BinnedData, params: TrainingParams) {
        self.data = data
        self.params = params
        math = SplitMath(lambdaL1: params.lambdaL1, lambdaL2: params.lambdaL2)
        constraints = SplitConstraints(
            minDataInLeaf: params.minDataInLeaf, minSumHessianInLeaf: params.minSumHessianInLeaf,
            minGainToSplit: params.minGainToSplit)
        layout = HistogramLayout(mappers: data.mappers)
        trivial = data.mappers.map(\.isTrivial)
        categorical = data.mappers.map(\.isCategorical)
        codes = UnsafePointer(data.storage.pointer)
        team = WorkerTeam(size: params.threads)
        partition = DataPartition(capacity: data.rows, team: team)
        builder = HistogramBuilder(
            layout: layout, columns: codes, rows: data.rows, rowMajor: RowMajorCodes(data, threads: params.threads),
            team: team)
        let bins = max(layout.total, 1)
        // Zeroed once: the sparse builder adds into the bins of features a leaf does not look at,
        // which are never read but should hold numbers.
        histograms = (0..<params.numLeaves).map { _ in
            let h = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: bins)
            h.initialize(repeating: .zero, count: bins)
            return h
        }
        pairs = LargeBuffer.allocate(bytes: data.rows * 8).assumingMemoryBound(to: SIMD2<Float>.self)
    }

    deinit {
        for h in histograms { h.deallocate() }
        LargeBuffer.deallocate(UnsafeMutableRawPointer(pairs), bytes: data.rows * 8)
    }

    /// Leaf state while growing.
    private struct Leaf {
        var g: Double
        var h: Double
        var count: Int
        var depth: Int
        var best: SplitCandidate
        /// Where this leaf hangs: (internal node, is left child), or (-1, _) for the root.
        var parent: (node: Int, left: Bool)
        /// The range monotone constraints leave its output (before shrinkage).
        var bounds: OutputBounds = .free
        /// The features its children look at: those of its own that could split it
        /// (`SplitCandidate.feasible`).
        var features: [Int] = []
    }

    /// Writes the gradients and hessians of rows `rows` at g[i] and h[i] for i in rows; called on
    /// several threads at once, for disjoint ranges.
    typealias Gradients = (_ rows: Range<Int>, _ g: UnsafeMutablePointer<Float>, _ h: UnsafeMutablePointer<Float>) ->
        Void

    /// Grows a tree on the rows of `bag` (all rows when nil). Leaf values include `shrinkage`.
    func grow(gradients: Gradients, bag: [Int32]?, features: [Int], shrinkage: Double) -> Tree {
        partition.reset(rows: bag, allRows: data.rows, maxLeaves: params.numLeaves)
        let n = partition.count[0]
        let (g, h) = fillPairs(gradients: gradients, bag: bag)
        builder.build(
            indices: bag == nil ? nil : UnsafePointer(partition.indices), count: n, pairs: pairs, features: features,
            out: histograms[0])
        var leaves = [Leaf(g: g, h: h, count: n, depth: 0, best: .none, parent: (-1, false))]
        (leaves[0].best, leaves[0].features) = bestSplit(leaf: 0, leaves[0], features: features)
        var tree = Tree()

        while leaves.count < params.numLeaves {
            var chosen = -1
            // By index: a leaf's copy would retain its feature list.
            for i in leaves.indices where leaves[i].best.isValid {
                if chosen < 0 || leaves[i].best.gain > leaves[chosen].best.gain { chosen = i }
            }
            guard chosen >= 0 else { break }
            let split = leaves[chosen].best
            let node = tree.internalNodes
            let right = leaves.count
            // Hang the new node where the leaf was.
            let parent = leaves[chosen].parent
            if parent.node >= 0 {
                if parent.left {
                    tree.leftChild[parent.node] = Int32(node)
                } else {
                    tree.rightChild[parent.node] = Int32(node)
                }
            }
            tree.splitFeature.append(Int32(split.feature))
            tree.thresholdBin.append(UInt8(split.thresholdBin))
            if let bins = split.leftBins {
                // A categorical split: its set of categories, and of bins for routing binned rows.
                if tree.categoryIndex.isEmpty { tree.categoryIndex = Array(repeating: -1, count: node) }
                tree.categoryIndex.append(Int32(tree.categorySets.count))
                let mapper = data.mappers[split.feature]
                tree.categorySets.append(CategorySet.bitset(bins.members.map { mapper.categories[$0 - 1] }))
                tree.categoryBins.append(bins)
                tree.threshold.append(0)
            } else {
                if !tree.categoryIndex.isEmpty { tree.categoryIndex.append(-1) }
                tree.threshold.append(
                    Tree.storableThreshold(data.mappers[split.feature].upperBounds[split.thresholdBin - 1]))
            }
            tree.defaultLeft.append(split.defaultLeft)
            tree.leftChild.append(~Int32(chosen))
            tree.rightChild.append(~Int32(right))
            tree.splitGain.append(split.gain)
            tree.internalValue.append(output(leaves[chosen]) * shrinkage)
            tree.internalHessian.append(leaves[chosen].h)
            tree.internalCount.append(leaves[chosen].count)

            let column = codes + split.feature * data.rows
            let leftRows = partition.split(
                leaf: chosen, newLeaf: right, column: column, thresholdBin: UInt8(split.thresholdBin),
                defaultLeft: split.defaultLeft, leftBins: split.leftBins)
            let rightRows = partition.count[right]
            let depth = leaves[chosen].depth + 1
            let bounds = leaves[chosen].bounds
            let childFeatures = leaves[chosen].features
            let (leftBounds, rightBounds) = bounds.children(
                direction: direction(split.feature), left: bounds.clamp(math.leafWeight(split.leftG, split.leftH)),
                right: bounds.clamp(math.leafWeight(split.rightG, split.rightH)))
            leaves[chosen] = Leaf(
                g: split.leftG, h: split.leftH, count: leftRows, depth: depth, best: .none, parent: (node, true),
                bounds: leftBounds)
            leaves.append(
                Leaf(
                    g: split.rightG, h: split.rightH, count: rightRows, depth: depth, best: .none,
                    parent: (node, false), bounds: rightBounds))

            // Children that will never be split (the tree is full, or they are too deep or too
            // small) need no histograms.
            let canSplitMore = params.maxDepth < 0 || depth < params.maxDepth
            let splittable = [chosen, right].filter {
                leaves.count < params.numLeaves && canSplitMore && leaves[$0].count >= 2 * params.minDataInLeaf
            }
            if splittable.isEmpty || childFeatures.isEmpty { continue }

            // The parent's histogram is in slot `chosen`. Build the smaller child into slot `right`,
            // subtract it from the parent's, and swap so that each leaf owns its own.
            let smallerIsLeft = leftRows < rightRows
            let small = smallerIsLeft ? chosen : right
            builder.build(
                indices: UnsafePointer(partition.indices + partition.begin[small]), count: partition.count[small],
                pairs: pairs, features: childFeatures, out: histograms[right])
            let (built, parentHistogram) = (histograms[right], histograms[chosen])
            if smallerIsLeft { histograms.swapAt(chosen, right) }
            let best = subtractAndSplit(
                built, from: parentHistogram, features: childFeatures,
                targets: splittable.map { Target(histograms[$0], leaves[$0]) })
            for (k, leaf) in splittable.enumerated() { (leaves[leaf].best, leaves[leaf].features) = best[k] }
        }
        tree.leafValue = leaves.map { output($0) * shrinkage }
        tree.leafHessian = leaves.map(\.h)
        tree.leafCount = leaves.map(\.count)
        return tree
    }

    /// Fills `pairs`, and their copies beside the row-major codes, with the objective's gradients
    /// and returns the gradient and hessian sums over the tree's rows. The objective writes a few
    /// thousand rows at a time into scratch that stays in cache, and the pairs are made from
    /// there: gradients and hessians never take a trip through memory of their own. The sums go
    /// block by block (fixed blocks, then in block order), so they are the same for any number of
    /// threads.
    private func fillPairs(gradients: Gradients, bag: [Int32]?) -> (Double, Double) {
        let block = 65_536
        let piece = 4096
        let rows = data.rows
        let blocks = (rows + block - 1) / block
        let sums = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: blocks)
        defer { sums.deallocate() }
        let (pairs, rowMajor) = (pairs, builder.rowMajor)
        team.forEach(blocks) { b in
            var sum = SIMD2<Double>.zero
            let range = b * block..<min((b + 1) * block, rows)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * piece) { scratch in
                let (g, h) = (scratch.baseAddress!, scratch.baseAddress! + piece)
                var lo = range.lowerBound
                while lo < range.upperBound {
                    let hi = min(lo + piece, range.upperBound)
                    // Shifted so that row i lands at scratch index i − lo.
                    gradients(lo..<hi, g - lo, h - lo)
                    for i in lo..<hi {
                        let p = SIMD2(g[i - lo], h[i - lo])
                        pairs[i] = p
                        sum += SIMD2<Double>(p)
                    }
                    lo = hi
                }
            }
            rowMajor.storePairs(pairs, rows: range)
            sums[b] = sum
        }
        var total = SIMD2<Double>.zero
        if let bag {
            for r in bag { total += SIMD2<Double>(pairs[Int(r)]) }
        } else {
            for b in 0..<blocks { total += sums[b] }
        }
        return (total.x, total.y)
    }

    /// Sets each leaf of the last grown tree to the `quantile` of its rows' residuals (label −
    /// score) times `shrinkage`: LightGBM's leaf renewal for the L1 and quantile losses, whose
    /// gradients are signs and whose Newton step says little about how far to move.
    func renewLeaves(
        of tree: inout Tree, quantile: Double, shrinkage: Double, weight: ((Int) -> Double)?,
        residual: (Int) -> Double
    ) {
        let indices = partition.indices
        for l in 0..<tree.leaves {
            let rows = (partition.begin[l]..<partition.begin[l] + partition.count[l]).map { Int(indices[$0]) }
            guard !rows.isEmpty else { continue }
            tree.leafValue[l] =
                Quantiles.of(rows.map(residual), quantile, weights: weight.map { w in rows.map(w) }) * shrinkage
        }
    }

    /// Adds the last grown tree's leaf values to the scores of the rows it was grown on, from the
    /// partition, without walking the tree.
    func addLeafValues(of tree: Tree, to scores: UnsafeMutablePointer<Double>) {
        // Leaves own disjoint rows, so they can be added in parallel: in runs of at most `run`
        // rows, since one leaf may hold a third of the rows and would keep one thread busy alone.
        let run = 32_768
        var runs: [(start: Int, count: Int, leaf: Int)] = []
        for l in 0..<tree.leaves {
            var start = partition.begin[l]
            let end = start + partition.count[l]
            while start < end {
                runs.append((start, min(run, end - start), l))
                start += run
            }
        }
        let indices = partition.indices
        team.forEach(runs.count) { k in
            let (start, count, leaf) = runs[k]
            let value = tree.leafValue[leaf]
            for j in start..<start + count { scores[Int(indices[j])] += value }
        }
    }

    /// Turns `whole` (the parent's histogram) into the larger child's by subtracting `part` (the
    /// smaller child's), and finds the best split of each leaf in `targets`, whose histograms are
    /// now those two: one feature at a time, so that a feature's bins are still in cache. Returns
    /// each leaf's best split and the features that could split it.
    private func subtractAndSplit(
        _ part: UnsafeMutablePointer<SIMD2<Double>>, from whole: UnsafeMutablePointer<SIMD2<Double>>,
        features: [Int], targets: [Target]
    ) -> [(SplitCandidate, [Int])] {
        let found = UnsafeMutablePointer<SplitCandidate>.allocate(capacity: features.count * targets.count)
        defer { found.deallocate() }
        team.forEach(features.count) { k in
            let f = features[k]
            let o = layout.offsets[f]
            for b in 0..<layout.bins[f] { whole[o + b] -= part[o + b] }
            for (i, target) in targets.enumerated() { found[i * features.count + k] = bestSplit(feature: f, target) }
        }
        return targets.indices.map { i in Self.best(of: found + i * features.count, features: features) }
    }

    /// The best of the candidates found for `features`, one each, and the features among them
    /// that could split the leaf.
    private static func best(of found: UnsafePointer<SplitCandidate>, features: [Int]) -> (SplitCandidate, [Int]) {
        var best = SplitCandidate.none
        var feasible: [Int] = []
        feasible.reserveCapacity(features.count)
        for k in features.indices {
            if found[k].gain > best.gain { best = found[k] }
            if found[k].feasible { feasible.append(features[k]) }
        }
        return (best, feasible)
    }

    /// A leaf's output before shrinkage: its optimum, within its bounds.
    private func output(_ leaf: Leaf) -> Double { leaf.bounds.clamp(math.leafWeight(leaf.g, leaf.h)) }

    @inline(__always)
    private func direction(_ feature: Int) -> Int8 {
        feature < params.monotoneConstraints.count ? params.monotoneConstraints[feature] : 0
    }

    /// What finding a leaf's splits reads: its histogram and totals (not the leaf itself, whose
    /// feature list each copy would retain).
    private struct Target {
        let histogram: UnsafeMutablePointer<SIMD2<Double>>
        let g: Double
        let h: Double
        let count: Int
        let bounds: OutputBounds

        init(_ histogram: UnsafeMutablePointer<SIMD2<Double>>, _ leaf: Leaf) {
            self.histogram = histogram
            (g, h, count, bounds) = (leaf.g, leaf.h, leaf.count, leaf.bounds)
        }
    }

    private func bestSplit(feature f: Int, _ state: Target) -> SplitCandidate {
        if trivial[f] {
            var none = SplitCandidate.none
            none.feasible = false
            return none
        }
        if categorical[f] {
            return SplitFinder.bestCategorical(
                feature: f, hist: state.histogram + layout.offsets[f], bins: layout.bins[f], totalG: state.g,
                totalH: state.h, count: state.count, math: math, constraints: constraints, params: params.categorical)
        }
        return SplitFinder.best(
            feature: f, hist: state.histogram + layout.offsets[f], bins: layout.bins[f], totalG: state.g,
            totalH: state.h, count: state.count, math: math, constraints: constraints, direction: direction(f),
            bounds: state.bounds)
    }

    private func bestSplit(leaf: Int, _ state: Leaf, features: [Int]) -> (SplitCandidate, [Int]) {
        let found = UnsafeMutablePointer<SplitCandidate>.allocate(capacity: features.count)
        defer { found.deallocate() }
        let target = Target(histograms[leaf], state)
        team.forEach(features.count) { k in found[k] = bestSplit(feature: features[k], target) }
        return Self.best(of: found, features: features)
    }
}
