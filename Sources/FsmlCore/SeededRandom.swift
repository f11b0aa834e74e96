import Foundation

/// xoshiro256** seeded through splitmix64: fast, small, and the same sequence for a seed on every
/// platform, which `SystemRandomNumberGenerator` is not. Everything seeded in fsml (events,
/// bagging, sampling) draws from it.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func next() -> UInt64 {
            sm &+= 0x9e37_79b9_7f4a_7c15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        s0 = next()
        s1 = next()
        s2 = next()
        s3 = next()
    }

    /// An independent stream for part `index` of a job seeded with `seed`, so that parallel
    /// workers draw the same numbers whatever the thread count.
    public init(seed: UInt64, stream index: UInt64) {
        self.init(seed: StableHash.combine(StableHash.mix(seed), StableHash.mix(index &+ 1)))
    }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SeededRandom.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = SeededRandom.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform integer in 0..<n without modulo bias worth speaking of (n is far below 2^32 here).
    public mutating func below(_ n: Int) -> Int {
        Int((UInt64(UInt32(truncatingIfNeeded: next() >> 32)) &* UInt64(n)) >> 32)
    }

    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// Standard normal by Box-Muller (one of the pair is dropped; simplicity over speed).
    public mutating func normal() -> Double {
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    public mutating func lognormal(mu: Double, sigma: Double) -> Double { exp(mu + sigma * normal()) }

    public mutating func exponential(mean: Double) -> Double {
        var u = uniform()
        while u <= 0 { u = uniform() }
        return -mean * log(u)
    }

    /// Geometric number of trials until success, at least 1.
    public mutating func geometric(mean: Double) -> Int {
        let p = 1 / max(mean, 1)
        var u = uniform()
        while u <= 0 { u = uniform() }
        return max(1, Int((log(u) / log1p(-p)).rounded(.up)))
    }
}
