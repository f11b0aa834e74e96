/// Maps one feature's values to small integer bins. Bin 0 holds missing values (NaN), so that a
/// split can learn where they go; value bins 1...n hold the values in
/// (upperBounds[k-2], upperBounds[k-1]], with the last bound +∞.
///
/// Bounds are Float32 and binning compares Float32 values, so `bin(x) <= b` exactly when
/// `x <= upperBounds[b - 1]`: a split on bins is the same split on values.
public struct BinMapper: Sendable, Equatable {
    public let upperBounds: [Float]
    /// Whether the sample that built the bins had missing values.
    public let sawMissing: Bool

    public var valueBins: Int { upperBounds.count }
    /// Bins including the missing bin.
    public var totalBins: Int { upperBounds.count + 1 }
    /// A feature with one value (and no missing values) cannot split anything.
    public var isTrivial: Bool { upperBounds.count <= 1 && !sawMissing || upperBounds.isEmpty }

    public init(upperBounds: [Float], sawMissing: Bool) {
        self.upperBounds = upperBounds
        self.sawMissing = sawMissing
    }

    /// Bins from sample values of the feature (any order, NaN allowed), at most `maxBin` value bins.
    /// Few distinct values: one bin each. Many: bins of about equal counts, where a value frequent
    /// enough gets a bin of its own (LightGBM's greedy rule).
    public init(sample: [Float], maxBin: Int) {
        precondition(maxBin >= 2 && maxBin <= 255)
        var values = sample.filter { !$0.isNaN }
        sawMissing = values.count < sample.count
        values.sort()
        var distinct: [Float] = []
        var counts: [Int] = []
        for v in values {
            if let last = distinct.last, last == v {
                counts[counts.count - 1] += 1
            } else {
                distinct.append(v)
                counts.append(1)
            }
        }
        guard !distinct.isEmpty else {
            upperBounds = [.infinity]
            return
        }
        var bounds: [Float] = []
        if distinct.count <= maxBin {
            for i in 0..<distinct.count - 1 { bounds.append(Self.between(distinct[i], distinct[i + 1])) }
        } else {
            var rest = values.count
            var binsLeft = maxBin
            var inBin = 0
            for i in 0..<distinct.count - 1 where binsLeft > 1 {
                inBin += counts[i]
                let mean = Double(rest) / Double(binsLeft)
                if Double(inBin) >= mean || Double(counts[i + 1]) >= mean {
                    bounds.append(Self.between(distinct[i], distinct[i + 1]))
                    rest -= inBin
                    binsLeft -= 1
                    inBin = 0
                }
            }
        }
        bounds.append(.infinity)
        upperBounds = bounds
    }

    /// A Float32 bound b with a <= b < c: the midpoint when it lies strictly below c.
    static func between(_ a: Float, _ c: Float) -> Float {
        let mid = Float((Double(a) + Double(c)) / 2)
        return mid < c && mid >= a ? mid : a
    }

    /// The bin of a value: 0 for NaN, else the first value bin whose upper bound is >= x.
    @inline(__always)
    public func bin(_ x: Float) -> UInt8 {
        if x.isNaN { return 0 }
        var lo = 0
        var hi = upperBounds.count - 1
        while lo < hi {
            let mid = (lo + hi) >> 1
            if x <= upperBounds[mid] { hi = mid } else { lo = mid + 1 }
        }
        return UInt8(lo + 1)
    }
}
