import Foundation

/// The partial of the moment operations (variance, stddev, skew, kurtosis): how many values, and
/// the exact sums of their powers in micro-units (`ExactSum`), so that arrival order cannot
/// change a bit. The statistics are computed from these at read time with exact integer
/// arithmetic up to one final division (`BigInteger`), so they do not suffer the cancellation of
/// the textbook one-pass formulas either.
public struct PowerSums: Sendable, Equatable {
    public var count: Int64 = 0
    var s1 = ExactSum.zero
    var s2 = ExactSum.zero
    var s3 = ExactSum.zero
    var s4 = ExactSum.zero

    public static let empty = PowerSums()

    /// Adds one value; a missing value adds nothing.
    @inline(__always)
    mutating func add(_ v: FieldValue, order: Int) {
        guard let x = v.numericValue, !x.isNaN else { return }
        let a = SumAggregator.fixedPoint(x)
        count &+= 1
        s1.add(power: 1, of: a)
        s2.add(power: 2, of: a)
        if order > 2 {
            s3.add(power: 3, of: a)
            s4.add(power: 4, of: a)
        }
    }

    /// Adds another partial's sums up to `order` (the higher ones stay zero below order 4). An
    /// empty partial adds nothing: most tiles of a quiet entity are empty.
    mutating func merge(_ other: PowerSums, order: Int = 4) {
        guard other.count != 0 else { return }
        count &+= other.count
        s1 += other.s1
        s2 += other.s2
        if order > 2 {
            s3 += other.s3
            s4 += other.s4
        }
    }

    /// The count, then the sums up to `order`.
    func encode(order: Int, to writer: inout StateWriter) {
        writer.varint(UInt64(count))
        s1.encode(to: &writer)
        s2.encode(to: &writer)
        if order > 2 {
            s3.encode(to: &writer)
            s4.encode(to: &writer)
        }
    }

    static func decode(order: Int, from reader: inout StateReader) throws(StateDecodeError) -> PowerSums {
        var p = PowerSums()
        let n = try reader.varint()
        guard n < 1 << 62 else { throw StateDecodeError("corrupt state: count out of range") }
        p.count = Int64(n)
        p.s1 = try ExactSum.decode(from: &reader)
        p.s2 = try ExactSum.decode(from: &reader)
        if order > 2 {
            p.s3 = try ExactSum.decode(from: &reader)
            p.s4 = try ExactSum.decode(from: &reader)
        }
        return p
    }

    /// n·Σa² − (Σa)² = n²·(population variance) in micro-units².
    var n2: BigInteger {
        let n = BigInteger(count)
        return n * s2.big - s1.big * s1.big
    }

    /// Population variance (divide by n) or sample variance (by n − 1); NaN for too few values.
    func variance(sample: Bool) -> Double {
        let n = Double(count)
        guard count > (sample ? 1 : 0) else { return .nan }
        let scale = SumAggregator.scale * SumAggregator.scale
        return n2Double / (n * (sample ? n - 1 : n)) / scale
    }

    /// `n2.double`, in 128-bit integers when the sums are small enough (|Σa| < 2⁶³, Σa² < 2⁹⁴,
    /// n < 2³², so neither product nor the difference overflows): no heap-allocated big integers
    /// on the path every read of a variance takes. The same bits: the conversion follows
    /// `BigInteger.double` (Horner over 64-bit limbs).
    var n2Double: Double {
        guard count < 1 << 32, let a1 = s1.int128, let a2 = s2.int128, a1.magnitude < 1 << 63, a2 >= 0, a2 < 1 << 94
        else { return n2.double }
        let v = Int128(count) * a2 - a1 * a1
        let m = v.magnitude
        let x =
            Double(UInt64(truncatingIfNeeded: m >> 64)) * 18_446_744_073_709_551_616.0
            + Double(UInt64(truncatingIfNeeded: m))
        return v < 0 ? -x : x
    }

    /// Fisher–Pearson skewness g1 = m3 / m2^1.5 (population moments); NaN when every value is equal.
    var skew: Double {
        guard count > 0 else { return .nan }
        let n = BigInteger(count)
        let (a1, a2, a3) = (s1.big, s2.big, s3.big)
        // n³·m3 in micro-units³: n²Σa³ − 3nΣaΣa² + 2(Σa)³.
        let n3 = n * n * a3 - BigInteger(3) * n * a1 * a2 + BigInteger(2) * a1 * a1 * a1
        let m2 = n2.double
        guard m2 > 0 else { return .nan }
        return n3.double / (m2 * m2.squareRoot())
    }

    /// Excess kurtosis g2 = m4 / m2² − 3 (population moments); NaN when every value is equal.
    var kurtosis: Double {
        guard count > 0 else { return .nan }
        let n = BigInteger(count)
        let (a1, a2, a3, a4) = (s1.big, s2.big, s3.big, s4.big)
        // n⁴·m4: n³Σa⁴ − 4n²ΣaΣa³ + 6n(Σa)²Σa² − 3(Σa)⁴.
        let sq = a1 * a1
        let n4 =
            n * n * n * a4 - BigInteger(4) * n * n * a1 * a3 + BigInteger(6) * n * sq * a2 - BigInteger(3) * sq * sq
        let m2 = n2.double
        guard m2 > 0 else { return .nan }
        return n4.double / (m2 * m2) - 3
    }
}

/// An operation computed from `PowerSums` of one numeric field: the partial, its update, merge
/// and bytes are shared; each operation says which powers it needs and how it finalizes.
public protocol MomentAggregator: Aggregator where Partial == PowerSums {
    var field: Int { get }
    /// The highest power kept: 2 (variance, stddev) or 4 (skew, kurtosis).
    static var order: Int { get }
}

extension MomentAggregator {
    public static var argumentKeys: [String] { ["field"] }
    public var stateIdentity: String { "moments(field: \(field), order: \(Self.order))" }
    public var fieldsRead: Set<Int> { [field] }
    public var empty: PowerSums { .empty }
    public func update(_ partial: inout PowerSums, with event: Event) {
        partial.add(event.values[field], order: Self.order)
    }
    public func merge(_ partial: inout PowerSums, with other: PowerSums) {
        partial.merge(other, order: Self.order)
    }
    public func encode(_ partial: PowerSums, to writer: inout StateWriter) {
        partial.encode(order: Self.order, to: &writer)
    }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> PowerSums {
        try PowerSums.decode(order: Self.order, from: &reader)
    }
}

/// `variance` and `stddev`: a moment of order 2 that is the sample one (divided by n − 1) unless
/// `sample: false` asks for the population one (divided by n).
public protocol SampleMomentAggregator: MomentAggregator {
    var sample: Bool { get }
    init(field: Int, sample: Bool)
}

extension SampleMomentAggregator {
    public static var argumentKeys: [String] { ["field", "sample"] }
    public static var order: Int { 2 }

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        self.init(field: try arguments.field(numeric: true), sample: try arguments.flag("sample", default: true))
    }

    public var identity: String { "\(Self.name)(field: \(field), sample: \(sample))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("sample", "\(sample)")]
    }
}
