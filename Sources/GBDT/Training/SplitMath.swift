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
        math: SplitMath, constraints c: SplitConstraints
    ) -> SplitCandidate {
        var best = SplitCandidate.none
        let missingG = hist[0].x
        let missingH = hist[0].y
        let hasMissing = missingH > 0
        let countPerHessian = Double(count) / totalH
        let counts = CountLimits(count: count, minDataInLeaf: c.minDataInLeaf)
        let parentGain = math.leafGain(totalG, totalH)
        var leftG = 0.0
        var leftH = 0.0
        // With missing values the last threshold (all values left) splits missing from the rest.
        let lastThreshold = hasMissing ? bins - 1 : bins - 2
        if lastThreshold < 1 { return best }
        @inline(__always) func consider(_ b: Int, _ lg: Double, _ lh: Double, missingLeft: Bool) {
            let rg = totalG - lg
            let rh = totalH - lh
            if lh < c.minSumHessianInLeaf || rh < c.minSumHessianInLeaf { return }
            let estimate = lh * countPerHessian
            if !counts.allow(estimate) { return }
            let gain = math.leafGain(lg, lh) + math.leafGain(rg, rh) - parentGain
            if gain > best.gain {
                let lc = Int(estimate.rounded())
                let rc = count - lc
                best = SplitCandidate(
                    feature: feature, thresholdBin: b, defaultLeft: hasMissing ? missingLeft : lh >= rh, gain: gain,
                    leftG: lg, leftH: lh, leftCount: lc, rightG: rg, rightH: rh, rightCount: rc)
            }
        }
        for b in 1...lastThreshold {
            leftG += hist[b].x
            leftH += hist[b].y
            consider(b, leftG, leftH, missingLeft: false)
            if hasMissing { consider(b, leftG + missingG, leftH + missingH, missingLeft: true) }
        }
        if best.gain <= c.minGainToSplit { return .none }
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
}
