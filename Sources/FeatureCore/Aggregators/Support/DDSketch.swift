import Foundation

/// The partial of `approx_percentile`: a DDSketch (Masson, Rim and Lee, VLDB 2019). Each value x
/// falls in the bucket i = ⌈log_γ |x|⌉ with γ = (1 + α) / (1 − α), negatives and positives apart
/// and values below 1e-9 in magnitude in a zero bucket; a bucket reads as 2γ^i / (γ + 1), within a
/// relative error α of every value in it. Counts per bucket add, so the sketch is exact under
/// merge and free of arrival order. No bucket is ever collapsed: a window's distinct buckets
/// are bounded by the range of its values (about 1,000 for nine decades at α = 1 %).
public struct DDSketch: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        var index: Int64
        var count: Int64
    }

    /// Ascending by index.
    var positive: [Bucket] = []
    var negative: [Bucket] = []
    var zeros: Int64 = 0

    static let smallest = 1e-9

    var count: Int64 { zeros + positive.reduce(0) { $0 + $1.count } + negative.reduce(0) { $0 + $1.count } }

    struct Mapping {
        let gamma: Double
        let logGamma: Double

        init(accuracy: Double) {
            gamma = (1 + accuracy) / (1 - accuracy)
            logGamma = log(gamma)
        }

        @inline(__always)
        func index(_ magnitude: Double) -> Int64 { Int64((log(magnitude) / logGamma).rounded(.up)) }

        func value(_ index: Int64) -> Double { 2 * exp(Double(index) * logGamma) / (gamma + 1) }
    }

    static func add(_ index: Int64, _ count: Int64, to buckets: inout [Bucket]) {
        var lo = 0
        var hi = buckets.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if buckets[mid].index < index { lo = mid + 1 } else { hi = mid }
        }
        if lo < buckets.count && buckets[lo].index == index {
            buckets[lo].count += count
        } else {
            buckets.insert(Bucket(index: index, count: count), at: lo)
        }
    }

    @inline(__always)
    mutating func add(_ x: Double, mapping: Mapping) {
        guard x.isFinite else { return }
        let m = x.magnitude
        if m < Self.smallest { return zeros += 1 }
        if x > 0 { Self.add(mapping.index(m), 1, to: &positive) } else { Self.add(mapping.index(m), 1, to: &negative) }
    }

    mutating func merge(_ other: DDSketch) {
        zeros += other.zeros
        for b in other.positive { Self.add(b.index, b.count, to: &positive) }
        for b in other.negative { Self.add(b.index, b.count, to: &negative) }
    }

    /// The value at rank q·(n − 1) in ascending order (the lower of two neighbours, as
    /// numpy's `method="lower"`), within α of it; NaN for no values.
    func quantile(_ q: Double, mapping: Mapping) -> Double {
        let n = count
        guard n > 0 else { return .nan }
        let rank = (q * Double(n - 1)).rounded(.down)
        var seen: Int64 = 0
        for b in negative.reversed() {
            seen += b.count
            if Double(seen) > rank { return -mapping.value(b.index) }
        }
        seen += zeros
        if Double(seen) > rank { return 0 }
        for b in positive {
            seen += b.count
            if Double(seen) > rank { return mapping.value(b.index) }
        }
        return mapping.value(positive.last!.index)
    }

    func encode(to writer: inout StateWriter) {
        writer.varint(UInt64(zeros))
        for buckets in [negative, positive] {
            writer.varint(UInt64(buckets.count))
            var previous: Int64 = 0
            for b in buckets {
                writer.zigzag(b.index - previous)
                writer.varint(UInt64(b.count))
                previous = b.index
            }
        }
    }

    static func decode(from reader: inout StateReader) throws(StateDecodeError) -> DDSketch {
        var out = DDSketch()
        let zeros = try reader.varint()
        guard zeros < 1 << 62 else { throw StateDecodeError("corrupt state: count out of range") }
        out.zeros = Int64(zeros)
        for sign in 0..<2 {
            let n = try reader.count(ofItemsOfSize: 2)
            var buckets: [Bucket] = []
            buckets.reserveCapacity(n)
            var index: Int64 = 0
            for i in 0..<n {
                let delta = try reader.zigzag()
                guard delta.magnitude < 1 << 20, i == 0 || delta > 0 else {
                    throw StateDecodeError("corrupt state: sketch bucket order")
                }
                index += delta
                let c = try reader.varint()
                guard c > 0, c < 1 << 62 else { throw StateDecodeError("corrupt state: bucket count") }
                buckets.append(Bucket(index: index, count: Int64(c)))
            }
            if sign == 0 { out.negative = buckets } else { out.positive = buckets }
        }
        return out
    }
}
