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
    let threads: Int
    private let partition: DataPartition
    private let builder: HistogramBuilder
    /// One histogram per leaf; swapped, not copied, when leaves split.
    private var histograms: [UnsafeMutablePointer<SIMD2<Double>>]
    /// (gradient, hessian) of every row, refreshed each tree. Float, as the objective computes them:
    /// half the memory to gather, and widened exactly to Double where they are summed.
    private let pairs: UnsafeMutablePointer<SIMD2<Float>>
    private let codes: UnsafePointer<UInt8>

    init(data: BinnedData, params: TrainingParams) {
        self.data = data
        self.params = params
        threads = params.threads
        math = SplitMath(lambdaL1: params.lambdaL1, lambdaL2: params.lambdaL2)
        constraints = SplitConstraints(
            minDataInLeaf: params.minDataInLeaf, minSumHessianInLeaf: params.minSumHessianInLeaf,
            minGainToSplit: params.minGainToSplit)
        layout = HistogramLayout(mappers: data.mappers)
        codes = UnsafePointer(data.storage.pointer)
        partition = DataPartition(capacity: data.rows, threads: threads)
        builder = HistogramBuilder(
            layout: layout, columns: codes, rows: data.rows, rowMajor: RowMajorCodes(data, threads: threads),
            threads: threads)
        let bins = max(layout.total, 1)
        histograms = (0..<params.numLeaves).map { _ in .allocate(capacity: bins) }
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
    }

    /// Grows a tree on the rows of `bag` (all rows when nil). Leaf values include `shrinkage`.
    func grow(
        gradients: UnsafePointer<Float>, hessians: UnsafePointer<Float>, bag: [Int32]?, features: [Int],
        shrinkage: Double
    ) -> Tree {
        partition.reset(rows: bag, allRows: data.rows, maxLeaves: params.numLeaves)
        let block = 65_536
        let io = UncheckedBox((pairs, gradients, hessians))
        Parallel.forEach((data.rows + block - 1) / block, threads: threads) { b in
            let (pairs, gradients, hessians) = io.value
            for i in b * block..<min((b + 1) * block, data.rows) { pairs[i] = SIMD2(gradients[i], hessians[i]) }
        }
        let n = partition.count[0]
        var sums = SIMD2<Double>.zero
        for j in 0..<n { sums += SIMD2<Double>(pairs[Int(partition.indices[j])]) }
        let (g, h) = (sums.x, sums.y)
        builder.build(
            indices: bag == nil ? nil : UnsafePointer(partition.indices), count: n, pairs: pairs, features: features,
            out: histograms[0])
        var leaves = [Leaf(g: g, h: h, count: n, depth: 0, best: .none, parent: (-1, false))]
        leaves[0].best = bestSplit(leaf: 0, leaves[0], features: features)
        var tree = Tree()

        while leaves.count < params.numLeaves {
            var chosen = -1
            for (i, leaf) in leaves.enumerated() where leaf.best.isValid {
                if chosen < 0 || leaf.best.gain > leaves[chosen].best.gain { chosen = i }
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
            tree.threshold.append(
                Tree.storableThreshold(data.mappers[split.feature].upperBounds[split.thresholdBin - 1]))
            tree.defaultLeft.append(split.defaultLeft)
            tree.leftChild.append(~Int32(chosen))
            tree.rightChild.append(~Int32(right))
            tree.splitGain.append(split.gain)
            tree.internalValue.append(math.leafWeight(leaves[chosen].g, leaves[chosen].h) * shrinkage)
            tree.internalHessian.append(leaves[chosen].h)
            tree.internalCount.append(leaves[chosen].count)

            let column = codes + split.feature * data.rows
            let leftRows = partition.split(
                leaf: chosen, newLeaf: right, column: column, thresholdBin: UInt8(split.thresholdBin),
                defaultLeft: split.defaultLeft)
            let rightRows = partition.count[right]
            let depth = leaves[chosen].depth + 1
            leaves[chosen] = Leaf(
                g: split.leftG, h: split.leftH, count: leftRows, depth: depth, best: .none, parent: (node, true))
            leaves.append(
                Leaf(
                    g: split.rightG, h: split.rightH, count: rightRows, depth: depth, best: .none, parent: (node, false)
                ))

            // Children that will never be split (the tree is full, or they are too deep or too
            // small) need no histograms.
            let canSplitMore = params.maxDepth < 0 || depth < params.maxDepth
            let splittable = [chosen, right].filter {
                leaves.count < params.numLeaves && canSplitMore && leaves[$0].count >= 2 * params.minDataInLeaf
            }
            if splittable.isEmpty { continue }

            // The parent's histogram is in slot `chosen`. Build the smaller child into slot `right`,
            // subtract it from the parent's, and swap so that each leaf owns its own.
            let smallerIsLeft = leftRows < rightRows
            let small = smallerIsLeft ? chosen : right
            builder.build(
                indices: UnsafePointer(partition.indices + partition.begin[small]), count: partition.count[small],
                pairs: pairs, features: features, out: histograms[right])
            subtract(histograms[right], from: histograms[chosen], features: features)
            if smallerIsLeft { histograms.swapAt(chosen, right) }

            for leaf in splittable { leaves[leaf].best = bestSplit(leaf: leaf, leaves[leaf], features: features) }
        }
        tree.leafValue = leaves.map { math.leafWeight($0.g, $0.h) * shrinkage }
        tree.leafHessian = leaves.map(\.h)
        tree.leafCount = leaves.map(\.count)
        return tree
    }

    /// Adds the last grown tree's leaf values to the scores of the rows it was grown on, from the
    /// partition, without walking the tree.
    func addLeafValues(of tree: Tree, to scores: UnsafeMutablePointer<Double>) {
        // Leaves own disjoint rows, so they can be added in parallel.
        let io = UncheckedBox((scores, partition.indices))
        let (begin, count) = (partition.begin, partition.count)
        Parallel.forEach(tree.leaves, threads: threads) { l in
            let (scores, indices) = io.value
            let value = tree.leafValue[l]
            let start = indices + begin[l]
            for j in 0..<count[l] { scores[Int(start[j])] += value }
        }
    }

    private func subtract(
        _ part: UnsafeMutablePointer<SIMD2<Double>>, from whole: UnsafeMutablePointer<SIMD2<Double>>, features: [Int]
    ) {
        for f in features {
            let o = layout.offsets[f]
            for k in 0..<layout.bins[f] { whole[o + k] -= part[o + k] }
        }
    }

    private func bestSplit(leaf: Int, _ state: Leaf, features: [Int]) -> SplitCandidate {
        let hist = UncheckedBox(UnsafePointer(histograms[leaf]))
        let candidates = Parallel.map(features.count, threads: state.count > 20_000 ? threads : 1) {
            k -> SplitCandidate in
            let f = features[k]
            if data.mappers[f].isTrivial { return .none }
            return SplitFinder.best(
                feature: f, hist: hist.value + layout.offsets[f], bins: layout.bins[f], totalG: state.g,
                totalH: state.h, count: state.count, math: math, constraints: constraints)
        }
        var best = SplitCandidate.none
        for c in candidates where c.gain > best.gain { best = c }
        return best
    }
}
