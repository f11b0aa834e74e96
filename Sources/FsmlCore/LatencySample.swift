/// A uniform sample of at most `capacity` observations (reservoir sampling, seeded so that runs
/// repeat), with exact quantiles of the sample: what a long job reports as p50/p99 without keeping
/// every observation.
public struct LatencySample: Sendable {
    public let capacity: Int
    public private(set) var values: [Double] = []
    public private(set) var count = 0
    public private(set) var maximum = -Double.infinity
    private var random = SeededRandom(seed: 0x5EED)

    public init(capacity: Int = 100_000) {
        self.capacity = capacity
        values.reserveCapacity(min(capacity, 4096))
    }

    public mutating func add(_ x: Double) {
        count += 1
        if x > maximum { maximum = x }
        if values.count < capacity {
            values.append(x)
        } else {
            let slot = Int(random.next() % UInt64(count))
            if slot < capacity { values[slot] = x }
        }
    }

    /// The q-quantile (0...1) of the sample, nearest rank; nil when empty.
    public func quantile(_ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[Self.rank(q, count: sorted.count)]
    }

    /// Several quantiles with one sort.
    public func quantiles(_ qs: [Double]) -> [Double]? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return qs.map { sorted[Self.rank($0, count: sorted.count)] }
    }

    static func rank(_ q: Double, count: Int) -> Int {
        let r = Int((q * Double(count)).rounded(.up)) - 1
        return min(max(r, 0), count - 1)
    }
}
