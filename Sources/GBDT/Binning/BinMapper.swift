/// Maps one feature's values to small integer bins. Bin 0 holds missing values (NaN), so that a
/// split can learn where they go; value bins 1...n hold the values in
/// (upperBounds[k-2], upperBounds[k-1]], with the last bound +∞.
///
/// Bounds are Float32 and binning compares Float32 values, so `bin(x) <= b` exactly when
/// `x <= upperBounds[b - 1]`: a split on bins is the same split on values.
///
/// A categorical feature's value bins are its categories instead (`categories[b - 1]`, the most
/// frequent first, at most `maxBin` of them); bin 0 holds missing values, values that are no
/// category, and categories too rare to have a bin, all of which a categorical split sends right.
public struct BinMapper: Sendable, Equatable {
    public let upperBounds: [Float]
    /// Whether the sample that built the bins had missing values (or, for a categorical feature,
    /// values in bin 0).
    public let sawMissing: Bool
    /// A categorical feature's category of each value bin; empty for a numerical feature.
    public let categories: [Int]
    private let binOfCategory: [Int: UInt8]

    public var isCategorical: Bool { !categories.isEmpty }
    public var valueBins: Int { isCategorical ? categories.count : upperBounds.count }
    /// Bins including the missing bin.
    public var totalBins: Int { valueBins + 1 }
    /// A feature with one value (and no missing values) cannot split anything.
    public var isTrivial: Bool { valueBins <= 1 && !sawMissing || valueBins == 0 }

    public init(upperBounds: [Float], sawMissing: Bool) {
        self.upperBounds = upperBounds
        self.sawMissing = sawMissing
        categories = []
        binOfCategory = [:]
    }

    /// A categorical feature's bins from sample values: a bin for each of the `maxBin` most frequent
    /// categories (ties by the smaller category).
    public init(categoricalSample sample: [Float], maxBin: Int) {
        var counts: [Int: Int] = [:]
        var outside = 0
        for x in sample {
            if let c = CategorySet.category(x) { counts[c, default: 0] += 1 } else { outside += 1 }
        }
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let kept = ranked.prefix(maxBin).map(\.key)
        categories = kept.isEmpty ? [0] : kept
        binOfCategory = Dictionary(
            uniqueKeysWithValues: categories.enumerated().map { ($0.element, UInt8($0.offset + 1)) })
        sawMissing = outside > 0 || ranked.count > kept.count
        upperBounds = []
    }

    /// Bins from sample values of the feature (any order, NaN allowed), at most `maxBin` value bins.
    /// Few distinct values: one bin each. Many: bins of about equal counts, where a value frequent
    /// enough gets a bin of its own (LightGBM's greedy rule).
    public init(sample: [Float], maxBin: Int) {
        precondition(maxBin >= 2 && maxBin <= 255)
        categories = []
        binOfCategory = [:]
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

    /// The bin of a value: 0 for NaN, else the first value bin whose upper bound is >= x (for a
    /// categorical feature, its category's bin, or 0).
    @inline(__always)
    public func bin(_ x: Float) -> UInt8 {
        if isCategorical { return CategorySet.category(x).flatMap { binOfCategory[$0] } ?? 0 }
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
