/// A signed integer of any size: the exact arithmetic behind the moments' final formulas
/// (`PowerSums`), where products of 384-bit sums must not round before the one division at the
/// end. Used when a value is read, never per event.
struct BigInteger: Equatable {
    var negative: Bool
    /// Little-endian 64-bit limbs, no trailing zero limbs; empty for zero.
    var magnitude: [UInt64]

    static let zero = BigInteger(negative: false, magnitude: [])

    init(negative: Bool, magnitude: [UInt64]) {
        var m = magnitude
        while m.last == 0 { m.removeLast() }
        self.negative = negative && !m.isEmpty
        self.magnitude = m
    }

    init(_ v: Int64) { self.init(negative: v < 0, magnitude: [v.magnitude]) }

    var isZero: Bool { magnitude.isEmpty }

    /// The nearest Double, accurate to about one part in 2^52, from the top limbs.
    var double: Double {
        var x = 0.0
        for limb in magnitude.reversed() { x = x * 18_446_744_073_709_551_616.0 + Double(limb) }
        return negative ? -x : x
    }

    static func compareMagnitudes(_ a: [UInt64], _ b: [UInt64]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for i in stride(from: a.count - 1, through: 0, by: -1) where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return 0
    }

    static func addMagnitudes(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: max(a.count, b.count) + 1)
        var carry: UInt64 = 0
        for i in 0..<(out.count - 1) {
            let (s1, o1) = (i < a.count ? a[i] : 0).addingReportingOverflow(i < b.count ? b[i] : 0)
            let (s2, o2) = s1.addingReportingOverflow(carry)
            out[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        out[out.count - 1] = carry
        return out
    }

    /// a − b for |a| ≥ |b|.
    static func subtractMagnitudes(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] {
        var out = a
        var borrow: UInt64 = 0
        for i in 0..<a.count {
            let (d1, o1) = a[i].subtractingReportingOverflow(i < b.count ? b[i] : 0)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            out[i] = d2
            borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return out
    }

    static func + (a: BigInteger, b: BigInteger) -> BigInteger {
        if a.negative == b.negative {
            return BigInteger(negative: a.negative, magnitude: addMagnitudes(a.magnitude, b.magnitude))
        }
        if compareMagnitudes(a.magnitude, b.magnitude) >= 0 {
            return BigInteger(negative: a.negative, magnitude: subtractMagnitudes(a.magnitude, b.magnitude))
        }
        return BigInteger(negative: b.negative, magnitude: subtractMagnitudes(b.magnitude, a.magnitude))
    }

    static prefix func - (a: BigInteger) -> BigInteger { BigInteger(negative: !a.negative, magnitude: a.magnitude) }

    static func - (a: BigInteger, b: BigInteger) -> BigInteger { a + (-b) }

    static func * (a: BigInteger, b: BigInteger) -> BigInteger {
        guard !a.isZero, !b.isZero else { return .zero }
        var out = [UInt64](repeating: 0, count: a.magnitude.count + b.magnitude.count)
        for (i, x) in a.magnitude.enumerated() {
            var carry: UInt64 = 0
            for (j, y) in b.magnitude.enumerated() {
                let (high, low) = x.multipliedFullWidth(by: y)
                let (s1, o1) = low.addingReportingOverflow(out[i + j])
                let (s2, o2) = s1.addingReportingOverflow(carry)
                out[i + j] = s2
                carry = high &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
            }
            out[i + b.magnitude.count] = carry
        }
        return BigInteger(negative: a.negative != b.negative, magnitude: out)
    }
}
