/// A 128-bit two's-complement integer for fixed-point sums: adding in any order gives the same
/// bits, and no realistic number of events can overflow it (it would take 2^64 values at the
/// largest magnitude fixed point holds). Eight-byte aligned, unlike `Int128`, so that it sits in
/// a state's slots like any other partial.
public struct WideSum: Sendable, Equatable {
    public var high: Int64
    public var low: UInt64

    public static let zero = WideSum(high: 0, low: 0)

    public init(high: Int64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(_ v: Int64) {
        high = v < 0 ? -1 : 0
        low = UInt64(bitPattern: v)
    }

    @inline(__always)
    public static func += (a: inout WideSum, b: WideSum) {
        let (low, carry) = a.low.addingReportingOverflow(b.low)
        a.low = low
        a.high = a.high &+ b.high &+ (carry ? 1 : 0)
    }

    /// The value as an Int64 when it fits.
    public var int64: Int64? {
        let v = Int64(bitPattern: low)
        return (high == 0 && v >= 0) || (high == -1 && v < 0) ? v : nil
    }

    /// The nearest Double: exact conversion when the value fits in an Int64 (as sums were kept
    /// before), else high · 2^64 + low (deterministic, so parity holds even there).
    public var double: Double {
        if let v = int64 { return Double(v) }
        return Double(high) * 18_446_744_073_709_551_616.0 + Double(low)
    }

    /// Zigzag over 128 bits: for values that fit in an Int64 the same number as the 64-bit zigzag,
    /// so that states written before sums were wide read back unchanged.
    var zigzag: (high: UInt64, low: UInt64) {
        let sign = UInt64(bitPattern: high >> 63)  // all ones when negative
        let shiftedHigh = (UInt64(bitPattern: high) << 1) | (low >> 63)
        let shiftedLow = low << 1
        return (shiftedHigh ^ sign, shiftedLow ^ sign)
    }

    init(zigzag: (high: UInt64, low: UInt64)) {
        let negative = zigzag.low & 1 == 1
        let mask: UInt64 = negative ? .max : 0
        let low = (zigzag.low >> 1) | (zigzag.high << 63)
        let high = zigzag.high >> 1
        self.init(high: Int64(bitPattern: high ^ mask), low: low ^ mask)
    }
}
