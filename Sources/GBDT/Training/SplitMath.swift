/// The gain and weight arithmetic of second-order boosting (XGBoost's CalcGain/CalcWeight, with
/// LightGBM's L1 soft threshold). Pure functions: the split finder, the exact-greedy oracle in the
/// tests and the hand-computed test cases all use exactly these.
public struct SplitMath: Sendable, Equatable {
    public var lambdaL1: Double
    public var lambdaL2: Double

    public init(lambdaL1: Double, lambdaL2: Double) {
        self.lambdaL1 = lambdaL1
        self.lambdaL2 = lambdaL2
    }

    @inline(__always)
    func thresholdL1(_ g: Double) -> Double {
        if lambdaL1 <= 0 { return g }
        if g > lambdaL1 { return g - lambdaL1 }
        if g < -lambdaL1 { return g + lambdaL1 }
        return 0
    }

    /// How much a leaf with gradient sum G and hessian sum H lowers the loss: T(G)² / (H + λ₂).
    @inline(__always)
    public func leafGain(_ g: Double, _ h: Double) -> Double {
        let t = thresholdL1(g)
        return t * t / (h + lambdaL2)
    }

    /// The optimal leaf output −T(G) / (H + λ₂), before shrinkage.
    @inline(__always)
    public func leafWeight(_ g: Double, _ h: Double) -> Double {
        -thresholdL1(g) / (h + lambdaL2)
    }

    /// How much a leaf lowers the loss when its output is `w` rather than its optimum:
    /// −(2 T(G) w + (H + λ₂) w²), which is `leafGain` at the optimum.
    @inline(__always)
    public func leafGain(_ g: Double, _ h: Double, output w: Double) -> Double {
        -(2 * thresholdL1(g) * w + (h + lambdaL2) * w * w)
    }

    /// Gain of splitting a parent into left and right: the children's gains minus the parent's.
    @inline(__always)
    public func splitGain(leftG: Double, leftH: Double, rightG: Double, rightH: Double) -> Double {
        leafGain(leftG, leftH) + leafGain(rightG, rightH) - leafGain(leftG + rightG, leftH + rightH)
    }
}

/// A candidate split of a leaf on one feature: value bins 1...thresholdBin go left, the rest
/// right; missing values go left when `defaultLeft`.
public struct SplitCandidate: Sendable, Equatable {
    public var feature: Int
    public var thresholdBin: Int
    public var defaultLeft: Bool
    public var gain: Double
    public var leftG: Double
    public var leftH: Double
    public var leftCount: Int
    public var rightG: Double
    public var rightH: Double
    public var rightCount: Int
    /// A categorical split's left bins (nil for a split on a threshold).
    public var leftBins: BinSet? = nil
    /// Whether some threshold of the feature left both sides enough data and hessian, gain
    /// aside. Its children hold no more hessian and no more rows in any bin, so such a feature
    /// cannot split them either and they do not look at it: LightGBM's `is_splittable`, which
    /// takes the row counts estimated from hessians as fsml does.
    public var feasible = true

    public static let none = SplitCandidate(
        feature: -1, thresholdBin: 0, defaultLeft: false, gain: -.infinity, leftG: 0, leftH: 0, leftCount: 0,
        rightG: 0, rightH: 0, rightCount: 0)

    public var isValid: Bool { feature >= 0 }
}

/// The limits a split must respect.
public struct SplitConstraints: Sendable {
    public var minDataInLeaf: Int
    public var minSumHessianInLeaf: Double
    public var minGainToSplit: Double

    public init(minDataInLeaf: Int, minSumHessianInLeaf: Double, minGainToSplit: Double) {
        self.minDataInLeaf = minDataInLeaf
        self.minSumHessianInLeaf = minSumHessianInLeaf
        self.minGainToSplit = minGainToSplit
    }
}

/// Monotone constraints on a leaf: the direction the split's feature must keep (1 rising, −1
/// falling, 0 free) and the range the leaf's output must stay in (LightGBM's "basic" method: a
/// split on a constrained feature caps the outputs of everything below it at the mid-point of its
/// two children, so the whole tree keeps the direction).
public struct OutputBounds: Sendable, Equatable {
    public var lower: Double
    public var upper: Double

    public static let free = OutputBounds(lower: -.infinity, upper: .infinity)

    public init(lower: Double, upper: Double) {
        self.lower = lower
        self.upper = upper
    }

    public var isFree: Bool { lower == -.infinity && upper == .infinity }

    @inline(__always)
    public func clamp(_ w: Double) -> Double { min(max(w, lower), upper) }

    /// The bounds of the two children of a split whose feature has `direction`, with outputs
    /// `left` and `right` (already within these bounds).
    public func children(direction: Int8, left: Double, right: Double) -> (OutputBounds, OutputBounds) {
        guard direction != 0 else { return (self, self) }
        let mid = (left + right) / 2
        var (l, r) = (self, self)
        if direction > 0 {
            l.upper = min(l.upper, mid)
            r.lower = max(r.lower, mid)
        } else {
            l.lower = max(l.lower, mid)
            r.upper = min(r.upper, mid)
        }
        return (l, r)
    }
}

public enum SplitFinder {
    /// The best split of one feature from its histogram: `hist[b]` holds the gradient and hessian
    /// sums of bin b (b = 0 is the missing bin). Counts are estimated from hessians
    /// with the leaf's count per unit of hessian, as LightGBM does (exact when hessians are 1).
    ///
    /// Every threshold is tried with missing values on either side; with no missing values the
    /// default direction is the side with more hessian. Ties keep the first candidate found, in the
    /// order threshold ascending, missing right before missing left.
    public static func best(
        feature: Int, hist: UnsafePointer<SIMD2<Double>>, bins: Int, totalG: Double, totalH: Double, count: Int,
        math: SplitMath, constraints c: SplitConstraints, direction: Int8 = 0, bounds: OutputBounds = .free
    ) -> SplitCandidate {
        if direction == 0 && bounds.isFree {
            let parentGain = math.leafGain(totalG, totalH)
            return scan(feature: feature, hist: hist, bins: bins, totalG: totalG, totalH: totalH, count: count, c) {
                lg, lh, rg, rh in math.leafGain(lg, lh) + math.leafGain(rg, rh) - parentGain
            }
        }
        // Under monotone constraints: children's outputs clamped to the leaf's bounds, gains taken
        // at those outputs, and a split whose outputs go against `direction` refused.
        let parentGain = math.leafGain(totalG, totalH, output: bounds.clamp(math.leafWeight(totalG, totalH)))
        return scan(feature: feature, hist: hist, bins: bins, totalG: totalG, totalH: totalH, count: count, c) {
            lg, lh, rg, rh in
            let lw = bounds.clamp(math.leafWeight(lg, lh))
            let rw = bounds.clamp(math.leafWeight(rg, rh))
            if (direction > 0 && lw > rw) || (direction < 0 && lw < rw) { return -.infinity }
            return math.leafGain(lg, lh, output: lw) + math.leafGain(rg, rh, output: rw) - parentGain
        }
    }

    /// Every threshold of a feature's histogram, with missing values on either side, scored by
    /// `gain(leftG, leftH, rightG, rightH)`.
    @inline(__always)
    static func scan(
        feature: Int, hist: UnsafePointer<SIMD2<Double>>, bins: Int, totalG: Double, totalH: Double, count: Int,
        _ c: SplitConstraints, gain: (Double, Double, Double, Double) -> Double
    ) -> SplitCandidate {
        var best = SplitCandidate.none
        let missingG = hist[0].x
        let missingH = hist[0].y
        let hasMissing = missingH > 0
        let countPerHessian = Double(count) / totalH
        let counts = CountLimits(count: count, minDataInLeaf: c.minDataInLeaf)
        var leftG = 0.0
        var leftH = 0.0
        // With missing values the last threshold (all values left) splits missing from the rest.
        let lastThreshold = hasMissing ? bins - 1 : bins - 2
        var feasible = false
        if lastThreshold < 1 {
            best.feasible = false
            return best
        }
        @inline(__always) func consider(_ b: Int, _ lg: Double, _ lh: Double, missingLeft: Bool) {
            let rg = totalG - lg
            let rh = totalH - lh
            if lh < c.minSumHessianInLeaf || rh < c.minSumHessianInLeaf { return }
            let estimate = lh * countPerHessian
            if !counts.allow(estimate) { return }
            feasible = true
            let g = gain(lg, lh, rg, rh)
            if g > best.gain {
                let lc = Int(estimate.rounded())
                let rc = count - lc
                best = SplitCandidate(
                    feature: feature, thresholdBin: b, defaultLeft: hasMissing ? missingLeft : lh >= rh, gain: g,
                    leftG: lg, leftH: lh, leftCount: lc, rightG: rg, rightH: rh, rightCount: rc)
            }
        }
        for b in 1...lastThreshold {
            // An empty bin leaves the sums, and so every candidate, as the bin before it did, and
            // ties keep the first: skipping it changes nothing (a small leaf's bins are mostly
            // empty).
            if hist[b] == .zero && b > 1 { continue }
            leftG += hist[b].x
            leftH += hist[b].y
            // The right side only shrinks from here (hessians are not negative): once it is too
            // light or too small with missing values on the right, no threshold from this one on
            // passes either way (LightGBM's scan stops the same way).
            if totalH - leftH < c.minSumHessianInLeaf || !counts.allowsRight(leftH * countPerHessian) { break }
            consider(b, leftG, leftH, missingLeft: false)
            if hasMissing { consider(b, leftG + missingG, leftH + missingH, missingLeft: true) }
        }
        if best.gain <= c.minGainToSplit { best = .none }
        best.feasible = feasible
        return best
    }
}

/// The minimum-data constraint on a split's estimated left count x (hessian times count per unit of
/// hessian): both Int(x.rounded()) and count minus it at least `minDataInLeaf`. Said as two
/// comparisons of x itself, since rounding calls into the C library on the baseline x86-64 target
/// (it has no rounding instruction) and the split finder tests every candidate. For x ≥ 0,
/// rounding halves away from zero is rounding them up, so round(x) ≥ k exactly when x ≥ k − ½,
/// and k − ½ is exact for any count below 2⁵².
struct CountLimits {
    let lowest: Double
    let highest: Double

    init(count: Int, minDataInLeaf m: Int) {
        // round(x) ≥ m, and round(x) ≤ count − m, that is not round(x) ≥ count − m + 1.
        lowest = Double(m) - 0.5
        highest = Double(count - m) + 0.5
    }

    @inline(__always)
    func allow(_ x: Double) -> Bool { x >= lowest && x < highest }

    /// Whether the right side (count − round(x)) is large enough.
    @inline(__always)
    func allowsRight(_ x: Double) -> Bool { x < highest }
}
