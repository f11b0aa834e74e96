import FeatureCore
import Foundation
import FsmlCore

/// One checked expectation.
public struct ExpectationResult: Sendable {
    public var column: String
    public var check: String
    public var expected: String
    public var observed: String
    public var passed: Bool
}

/// Counts what the expectations need, value by value, for named columns: nulls, range, allowed
/// values, repeats. Memory grows only with the distinct values of `unique` columns.
public struct ColumnProfiler {
    public let expectations: Expectations
    private var index: [String: Int] = [:]
    private var rows = 0
    private var nulls: [Int]
    private var below: [Int]
    private var above: [Int]
    private var notAllowed: [Int]
    private var repeats: [Int]
    private var seen: [Set<String>]
    private var allowed: [Set<String>?]
    private var lows: [Double]
    private var highs: [Double]
    public var invalid = 0
    public var newest: Micros?

    public init(expectations: Expectations) {
        self.expectations = expectations
        let n = expectations.columns.count
        for (i, c) in expectations.columns.enumerated() { index[c.name] = i }
        nulls = Array(repeating: 0, count: n)
        below = nulls
        above = nulls
        notAllowed = nulls
        repeats = nulls
        seen = Array(repeating: [], count: n)
        allowed = expectations.columns.map { $0.values.map(Set.init) }
        lows = Array(repeating: .infinity, count: n)
        highs = Array(repeating: -.infinity, count: n)
    }

    /// The expectation columns, in order.
    public var columns: [String] { expectations.columns.map(\.name) }

    public mutating func startRow() { rows += 1 }

    /// One value of column `c` (an index into `columns`): nil is null; numbers as Double, text as String.
    public mutating func add(_ c: Int, number: Double?, text: String?) {
        let spec = expectations.columns[c]
        if number == nil && text == nil {
            nulls[c] += 1
            return
        }
        if let x = number, x.isFinite {
            lows[c] = min(lows[c], x)
            highs[c] = max(highs[c], x)
            if let lo = spec.min, x < lo { below[c] += 1 }
            if let hi = spec.max, x > hi { above[c] += 1 }
        }
        let key = text ?? number.map { "\($0)" } ?? ""
        if let allowed = allowed[c], !allowed.contains(key) { notAllowed[c] += 1 }
        if spec.unique, !seen[c].insert(key).inserted { repeats[c] += 1 }
    }

    public mutating func add(_ c: Int, _ value: FieldValue) {
        switch value {
        case .missing: add(c, number: nil, text: nil)
        case .number(let x): add(c, number: x, text: nil)
        case .string(let s):
            add(c, number: Double(s) != nil && expectations.columns[c].min != nil ? Double(s) : nil, text: s)
        case .bool(let b): add(c, number: nil, text: b ? "true" : "false")
        }
    }

    public func results(asOf: Micros, lines: Int? = nil) -> [ExpectationResult] {
        var out: [ExpectationResult] = []
        func pct(_ x: Double) -> String { Progress.fixed(x * 100, 3) + " %" }
        if let maxRate = expectations.maxInvalidRate, let lines, lines > 0 {
            let rate = Double(invalid) / Double(lines)
            out.append(
                .init(
                    column: "(events)", check: "schema", expected: "invalid ≤ \(pct(maxRate))",
                    observed: "\(invalid) lines, \(pct(rate))", passed: rate <= maxRate))
        }
        if let freshness = expectations.freshness {
            let age = newest.map { asOf - $0 }
            out.append(
                .init(
                    column: "(events)", check: "freshness",
                    expected: "newest ≤ \(DurationText.human(seconds: Double(freshness) / 1e6)) old",
                    observed: age.map { "\(DurationText.human(seconds: Double($0) / 1e6)) old" } ?? "no events",
                    passed: age.map { $0 <= freshness } ?? false))
        }
        for (c, spec) in expectations.columns.enumerated() {
            let n = max(rows, 1)
            if let m = spec.maxNullRate {
                let rate = Double(nulls[c]) / Double(n)
                out.append(
                    .init(
                        column: spec.name, check: "null rate", expected: "≤ \(pct(m))",
                        observed: "\(nulls[c]) nulls, \(pct(rate))", passed: rate <= m))
            }
            if spec.min != nil || spec.max != nil {
                let range = lows[c].isFinite ? "[\(lows[c]), \(highs[c])]" : "no numbers"
                out.append(
                    .init(
                        column: spec.name, check: "range",
                        expected: "[\(spec.min.map { "\($0)" } ?? "-∞"), \(spec.max.map { "\($0)" } ?? "∞")]",
                        observed: "\(range); \(below[c]) below, \(above[c]) above",
                        passed: below[c] == 0 && above[c] == 0))
            }
            if let values = spec.values {
                out.append(
                    .init(
                        column: spec.name, check: "allowed values", expected: values.joined(separator: ", "),
                        observed: "\(notAllowed[c]) others", passed: notAllowed[c] == 0))
            }
            if spec.unique {
                out.append(
                    .init(
                        column: spec.name, check: "unique", expected: "no repeats", observed: "\(repeats[c]) repeats",
                        passed: repeats[c] == 0))
            }
        }
        return out
    }
}

/// Train/serve skew of one feature: the population stability index over the training set's
/// deciles plus a bin of missing values, and the two-sample Kolmogorov–Smirnov statistic over the
/// present values. A feature that is missing far more often when served than in training (a
/// broken join, a store that lost a view) is the loudest skew there is, and is flagged as such.
public struct SkewResult: Sendable {
    public var feature: String
    public var trainRows: Int
    public var servedRows: Int
    public var trainMissingRate: Double
    public var servedMissingRate: Double
    public var psi: Double
    /// NaN when one side has no present value.
    public var ks: Double

    /// Why the feature is flagged under `limits`; empty when it is not.
    public func reasons(_ limits: SkewLimits) -> [String] {
        var out: [String] = []
        if !psi.isFinite || psi > limits.psi { out.append("PSI \(Self.fixed(psi, 3)) > \(limits.psi)") }
        if ks > limits.ks { out.append("KS \(Self.fixed(ks, 3)) > \(limits.ks)") }
        if abs(servedMissingRate - trainMissingRate) > limits.missingRateChange {
            out.append(
                "missing \(Self.fixed(trainMissingRate * 100, 1)) % in training, \(Self.fixed(servedMissingRate * 100, 1)) % served"
            )
        }
        return out
    }

    static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
}

/// The thresholds over which a feature's skew is flagged.
public struct SkewLimits: Sendable {
    public var psi: Double
    public var ks: Double
    /// The largest change of the missing rate, as a fraction (0.1: ten points).
    public var missingRateChange: Double

    public init(psi: Double = 0.2, ks: Double = 0.1, missingRateChange: Double = 0.1) {
        self.psi = psi
        self.ks = ks
        self.missingRateChange = missingRateChange
    }
}

public enum Skew {
    public static func compare(feature: String, train: [Double], served: [Double]) -> SkewResult {
        let a = train.filter { !$0.isNaN }.sorted()
        let b = served.filter { !$0.isNaN }.sorted()
        func missing(_ all: [Double], _ present: [Double]) -> Double {
            all.isEmpty ? 0 : Double(all.count - present.count) / Double(all.count)
        }
        let (trainMissing, servedMissing) = (missing(train, a), missing(served, b))
        return SkewResult(
            feature: feature, trainRows: train.count, servedRows: served.count, trainMissingRate: trainMissing,
            servedMissingRate: servedMissing, psi: psi(a, b, missing: (trainMissing, servedMissing)), ks: ks(a, b))
    }

    /// PSI over bins cut at the training deciles of the present values (ties merged) and, when
    /// `missing` gives the two sides' missing rates, one more bin for missing values; ε keeps
    /// empty bins finite. Inputs sorted, present values only.
    public static func psi(_ a: [Double], _ b: [Double], missing: (train: Double, served: Double) = (0, 0)) -> Double {
        let withMissing = missing.train > 0 || missing.served > 0
        guard (!a.isEmpty && !b.isEmpty) || withMissing else { return .nan }
        var cuts: [Double] = []
        for q in 1..<10 where !a.isEmpty {
            let c = a[min(a.count - 1, q * a.count / 10)]
            if cuts.last != c { cuts.append(c) }
        }
        func shares(_ x: [Double], missingRate: Double) -> [Double] {
            var counts = [Double](repeating: 0, count: cuts.count + 1)
            for v in x {
                var lo = 0
                var hi = cuts.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if v < cuts[mid] { hi = mid } else { lo = mid + 1 }
                }
                counts[lo] += 1
            }
            let present = counts.map { x.isEmpty ? 0 : $0 / Double(x.count) * (1 - missingRate) }
            return (withMissing ? present + [missingRate] : present).map { max($0, 1e-4) }
        }
        let p = shares(a, missingRate: missing.train)
        let q = shares(b, missingRate: missing.served)
        return zip(p, q).reduce(0) { $0 + ($1.1 - $1.0) * log($1.1 / $1.0) }
    }

    /// The largest gap between the two empirical distribution functions (inputs sorted).
    public static func ks(_ a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        var i = 0
        var j = 0
        var d = 0.0
        while i < a.count && j < b.count {
            let v = min(a[i], b[j])
            while i < a.count && a[i] == v { i += 1 }
            while j < b.count && b[j] == v { j += 1 }
            d = max(d, abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)))
        }
        return d
    }
}
