/// How categorical features split, with LightGBM's parameters and defaults.
public struct CategoricalSplitParams: Sendable, Equatable {
    /// Features with at most this many categories split one category against the rest.
    public var maxCatToOnehot = 4
    /// Added to each category's hessian when categories are ordered by gradient over hessian,
    /// and the least rows a category needs to take part in a many-vs-many split.
    public var catSmooth = 10.0
    /// Added to L2 regularisation in the gains of many-vs-many splits.
    public var catL2 = 10.0
    /// The least rows in each group of categories a scan adds, and on the right of a split.
    public var minDataPerGroup = 100
    /// The most categories on the left of a split.
    public var maxCatThreshold = 32

    public init() {}
}

extension SplitFinder {
    /// The best split of a categorical feature from its histogram (bin 0: missing values and
    /// categories without a bin, which always go right), as LightGBM finds it. With few categories,
    /// one category against the rest. Otherwise many against many: the categories with at least
    /// `catSmooth` rows, ordered by G / (H + catSmooth), are added to the left one at a time from
    /// either end of the order, up to `maxCatThreshold` and half of them, and every prefix is a
    /// candidate (whose gains use L2 + catL2, so that such splits must earn their freedom). The
    /// left categories are in the candidate's `leftBins`.
    public static func bestCategorical(
        feature: Int, hist: UnsafePointer<SIMD2<Double>>, bins: Int, totalG: Double, totalH: Double, count: Int,
        math: SplitMath, constraints c: SplitConstraints, params p: CategoricalSplitParams
    ) -> SplitCandidate {
        let valueBins = bins - 1
        guard valueBins >= 1, totalH > 0 else { return .none }
        let countPerHessian = Double(count) / totalH
        let parentGain = math.leafGain(totalG, totalH)
        // Rows of a bin, estimated from its hessian as LightGBM does.
        func rows(_ b: Int) -> Int { Int((hist[b].y * countPerHessian).rounded()) }
        var best = SplitCandidate.none
        func consider(_ left: [Int], _ lg: Double, _ lh: Double, _ lc: Int, _ splitMath: SplitMath) {
            let (rg, rh, rc) = (totalG - lg, totalH - lh, count - lc)
            let gain = splitMath.leafGain(lg, lh) + splitMath.leafGain(rg, rh) - parentGain
            if gain > best.gain {
                best = SplitCandidate(
                    feature: feature, thresholdBin: 0, defaultLeft: false, gain: gain, leftG: lg, leftH: lh,
                    leftCount: lc, rightG: rg, rightH: rh, rightCount: rc, leftBins: BinSet(left))
            }
        }
        if valueBins <= p.maxCatToOnehot {
            for b in 1...valueBins {
                let (lg, lh, lc) = (hist[b].x, hist[b].y, rows(b))
                if lc < c.minDataInLeaf || count - lc < c.minDataInLeaf { continue }
                if lh < c.minSumHessianInLeaf || totalH - lh < c.minSumHessianInLeaf { continue }
                consider([b], lg, lh, lc, math)
            }
        } else {
            let used = (1...valueBins).filter { Double(rows($0)) >= p.catSmooth }
            let ratio = { (b: Int) in hist[b].x / (hist[b].y + p.catSmooth) }
            let order = used.sorted { (ratio($0), $0) < (ratio($1), $1) }
            let smoothed = SplitMath(lambdaL1: math.lambdaL1, lambdaL2: math.lambdaL2 + p.catL2)
            let most = min(p.maxCatThreshold, (order.count + 1) / 2)
            for fromEnd in [false, true] {
                var (lg, lh, lc, group) = (0.0, 0.0, 0, 0)
                var left: [Int] = []
                for i in 0..<min(order.count, most) {
                    let b = fromEnd ? order[order.count - 1 - i] : order[i]
                    left.append(b)
                    (lg, lh) = (lg + hist[b].x, lh + hist[b].y)
                    lc += rows(b)
                    group += rows(b)
                    if lc < c.minDataInLeaf || lh < c.minSumHessianInLeaf { continue }
                    if count - lc < c.minDataInLeaf || count - lc < p.minDataPerGroup { break }
                    if totalH - lh < c.minSumHessianInLeaf { break }
                    if group < p.minDataPerGroup { continue }
                    group = 0
                    consider(left, lg, lh, lc, smoothed)
                }
            }
        }
        if best.gain <= c.minGainToSplit { return .none }
        return best
    }
}
