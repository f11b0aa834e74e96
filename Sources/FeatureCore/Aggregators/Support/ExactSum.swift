/// A 384-bit two's-complement accumulator of integer powers: Σ aᵖ for micro-unit values a (Int64)
/// and p ≤ 4. |a|⁴ < 2^252, so 2^130 such terms fit: adding in any order gives the same bits,
/// which is what keeps variance, skew and kurtosis identical in the stream, the build and the
/// server. Eight-byte aligned and free of references, so it sits in a state's slots like any partial.
public struct ExactSum: Sendable, Equatable {
    var w: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)

    public static let zero = ExactSum()

    public static func == (a: ExactSum, b: ExactSum) -> Bool { a.w == b.w }

    /// Adds aᵖ (p from 1 to 4).
    @inline(__always)
    mutating func add(power p: Int, of a: Int64) {
        let m = a.magnitude
        var limbs: (UInt64, UInt64, UInt64, UInt64) = (m, 0, 0, 0)
        for _ in 1..<p {
            let (h0, l0) = limbs.0.multipliedFullWidth(by: m)
            let (h1, l1) = limbs.1.multipliedFullWidth(by: m)
            let (h2, l2) = limbs.2.multipliedFullWidth(by: m)
            let (_, l3) = limbs.3.multipliedFullWidth(by: m)
            let (s1, c1) = l1.addingReportingOverflow(h0)
            let (s2, c2) = l2.addingReportingOverflow(h1 &+ (c1 ? 1 : 0))
            let s3 = l3 &+ h2 &+ (c2 ? 1 : 0)
            limbs = (l0, s1, s2, s3)
        }
        let negative = a < 0 && p % 2 == 1
        let term = (limbs.0, limbs.1, limbs.2, limbs.3, UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &w) { raw in
            withUnsafeBytes(of: term) { termRaw in
                let words = raw.bindMemory(to: UInt64.self)
                let terms = termRaw.bindMemory(to: UInt64.self)
                var carry: UInt64 = 0
                for i in 0..<6 {
                    let t = terms[i]
                    if negative {
                        let (d1, o1) = words[i].subtractingReportingOverflow(t)
                        let (d2, o2) = d1.subtractingReportingOverflow(carry)
                        words[i] = d2
                        carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
                    } else {
                        let (s1, o1) = words[i].addingReportingOverflow(t)
                        let (s2, o2) = s1.addingReportingOverflow(carry)
                        words[i] = s2
                        carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
                    }
                }
            }
        }
    }

    static func += (a: inout ExactSum, b: ExactSum) {
        var other = b
        withUnsafeMutableBytes(of: &a.w) { raw in
            withUnsafeMutableBytes(of: &other.w) { rawB in
                let x = raw.bindMemory(to: UInt64.self)
                let y = rawB.bindMemory(to: UInt64.self)
                var carry: UInt64 = 0
                for i in 0..<6 {
                    let (s1, o1) = x[i].addingReportingOverflow(y[i])
                    let (s2, o2) = s1.addingReportingOverflow(carry)
                    x[i] = s2
                    carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
                }
            }
        }
    }

    var words: [UInt64] {
        var copy = w
        return withUnsafeBytes(of: &copy) { Array($0.bindMemory(to: UInt64.self)) }
    }

    init() {}

    init(words: [UInt64]) {
        withUnsafeMutableBytes(of: &w) { raw in
            let out = raw.bindMemory(to: UInt64.self)
            for i in 0..<6 { out[i] = i < words.count ? words[i] : 0 }
        }
    }

    var isNegative: Bool { w.5 >> 63 == 1 }

    /// The value when it fits in 128 bits (the higher words only repeat the sign).
    var int128: Int128? {
        let sign: UInt64 = w.1 >> 63 == 1 ? .max : 0
        guard w.2 == sign && w.3 == sign && w.4 == sign && w.5 == sign else { return nil }
        return Int128(bitPattern: UInt128(w.1) << 64 | UInt128(w.0))
    }

    /// The exact value.
    var big: BigInteger {
        var limbs = words
        guard isNegative else { return BigInteger(negative: false, magnitude: limbs) }
        // Two's complement: the magnitude is ~x + 1.
        var carry: UInt64 = 1
        for i in limbs.indices {
            let (s, o) = (~limbs[i]).addingReportingOverflow(carry)
            limbs[i] = s
            carry = o ? 1 : 0
        }
        return BigInteger(negative: true, magnitude: limbs)
    }

    /// Sign, then the magnitude's significant limbs: a count byte and eight bytes each (zero is
    /// one byte). Written from the words in place: states are encoded at every flush, and a
    /// window of these sums per tile made an array per sum.
    func encode(to writer: inout StateWriter) {
        let negative = isNegative
        var magnitude = w
        if negative {
            // Two's complement: the magnitude is ~x + 1.
            magnitude = (~w.0, ~w.1, ~w.2, ~w.3, ~w.4, ~w.5)
            withUnsafeMutableBytes(of: &magnitude) { raw in
                let limbs = raw.bindMemory(to: UInt64.self)
                var carry = true
                for i in 0..<6 where carry { (limbs[i], carry) = limbs[i].addingReportingOverflow(1) }
            }
        }
        withUnsafeBytes(of: magnitude) { raw in
            let limbs = raw.bindMemory(to: UInt64.self)
            var count = 6
            while count > 0 && limbs[count - 1] == 0 { count -= 1 }
            writer.byte(UInt8(count) | (negative ? 0x80 : 0))
            for i in 0..<count { writer.fixed64(limbs[i]) }
        }
    }

    static func decode(from reader: inout StateReader) throws(StateDecodeError) -> ExactSum {
        let head = try reader.byte()
        let count = Int(head & 0x7f)
        guard count <= 6 else { throw StateDecodeError("corrupt state: a sum of \(count) limbs") }
        var sum = ExactSum()
        for i in 0..<count {
            let limb = try reader.fixed64()
            withUnsafeMutableBytes(of: &sum.w) { $0.bindMemory(to: UInt64.self)[i] = limb }
        }
        guard count < 6 || sum.w.5 >> 63 == 0 else { throw StateDecodeError("corrupt state: sum out of range") }
        if head & 0x80 != 0 {
            guard count > 0 else { throw StateDecodeError("corrupt state: negative zero") }
            // Two's complement of the magnitude.
            var negated = ExactSum()
            negated.w = (~sum.w.0, ~sum.w.1, ~sum.w.2, ~sum.w.3, ~sum.w.4, ~sum.w.5)
            negated.add(power: 1, of: 1)
            sum = negated
        }
        return sum
    }
}
