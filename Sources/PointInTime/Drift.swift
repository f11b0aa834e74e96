import Foundation
import FsmlCore

/// The values of one column of a dataset: numbers (NaN for missing) or categories (nil for missing).
public enum DriftValues: Sendable {
    case numbers([Double])
    case categories([String?])
}

/// The test a column's drift is judged by, chosen as Evidently chooses it by default: on a
/// reference of at most 1,000 present values, Kolmogorov–Smirnov for numbers, a z-test for two
/// categories and chi-squared for more (p-values, drift below 0.05); on larger ones, the
/// Wasserstein distance over the reference's standard deviation for numbers and the
/// Jensen–Shannon distance for categories (drift from 0.1). Numbers with at most five distinct
/// values in the reference count as categories.
public enum DriftTest: String, Sendable {
    case kolmogorovSmirnov = "K-S p-value"
    case zTest = "z-test p-value"
    case chiSquared = "chi-squared p-value"
    case wasserstein = "Wasserstein distance (normed)"
    case jensenShannon = "Jensen-Shannon distance"

    public var isPValue: Bool { self == .kolmogorovSmirnov || self == .zTest || self == .chiSquared }
    public var defaultThreshold: Double { isPValue ? 0.05 : 0.1 }

    /// Whether `statistic` means drift at `threshold`.
    public func drifted(_ statistic: Double, threshold: Double) -> Bool {
        isPValue ? statistic < threshold : statistic >= threshold
    }
}

/// One column's drift between a reference and a current dataset.
public struct DriftResult: Sendable {
    public var column: String
    public var categorical: Bool
    public var test: DriftTest
    public var statistic: Double
    public var threshold: Double
    public var referenceRows: Int
    public var currentRows: Int
    public var referenceMissingRate: Double
    public var currentMissingRate: Double
    /// Why the column is flagged; empty when it is not.
    public var reasons: [String]
    /// Present on one side and missing in every row of the other: the loudest drift there is.
    public var vanished: Bool

    public var drifted: Bool { !reasons.isEmpty }
}

public enum Drift {
    /// The sample size up to which the p-value tests are used.
    public static let smallSample = 1000

    /// Compares a column's reference and current values. `missingRateChange` flags a missing rate
    /// that moved by more (a fraction); `threshold` overrides the test's own.
    public static func compare(
        column: String, reference: DriftValues, current: DriftValues, threshold: Double? = nil,
        missingRateChange: Double = 0.1
    ) -> DriftResult {
        var ref = categories(reference)
        var cur = categories(current)
        var numbers: ([Double], [Double])?
        if case .numbers(let r) = reference, case .numbers(let c) = current {
            let (a, b) = (r.filter { !$0.isNaN }.sorted(), c.filter { !$0.isNaN }.sorted())
            if Set(a).count > 5 { numbers = (a, b) }
            (ref, cur) = (r.map { $0.isNaN ? nil : Self.label($0) }, c.map { $0.isNaN ? nil : Self.label($0) })
        }
        let (refPresent, curPresent) = (ref.compactMap { $0 }, cur.compactMap { $0 })
        let small = refPresent.count <= smallSample
        let test: DriftTest
        let statistic: Double
        if let (a, b) = numbers {
            test = small ? .kolmogorovSmirnov : .wasserstein
            statistic =
                small
                ? Distributions.kolmogorovSmirnovPValue(Skew.ks(a, b), n: a.count, m: b.count)
                : wasserstein(a, b) / max(standardDeviation(a), 0.001)
        } else {
            let keys = Set(refPresent).union(curPresent).sorted()
            test = !small ? .jensenShannon : keys.count <= 2 ? .zTest : .chiSquared
            statistic =
                switch test {
                case .zTest: zTestPValue(refPresent, curPresent, first: keys.first)
                case .chiSquared: chiSquaredPValue(counts(refPresent, keys), counts(curPresent, keys))
                default: jensenShannon(counts(refPresent, keys), counts(curPresent, keys))
                }
        }
        let limit = threshold ?? test.defaultThreshold
        let refMissing = ref.isEmpty ? 0 : Double(ref.count - refPresent.count) / Double(ref.count)
        let curMissing = cur.isEmpty ? 0 : Double(cur.count - curPresent.count) / Double(cur.count)
        let vanished = refPresent.isEmpty != curPresent.isEmpty
        var reasons: [String] = []
        if vanished {
            reasons.append(curPresent.isEmpty ? "no value in the current data" : "no value in the reference")
        } else if !refPresent.isEmpty && test.drifted(statistic, threshold: limit) {
            reasons.append(
                "\(test.rawValue) \(String(format: "%.4g", statistic)) \(test.isPValue ? "<" : "≥") \(limit)")
        }
        if abs(curMissing - refMissing) > missingRateChange {
            reasons.append(
                "missing \(String(format: "%.1f", refMissing * 100)) % → \(String(format: "%.1f", curMissing * 100)) %")
        }
        return DriftResult(
            column: column, categorical: numbers == nil, test: test, statistic: statistic, threshold: limit,
            referenceRows: ref.count, currentRows: cur.count, referenceMissingRate: refMissing,
            currentMissingRate: curMissing, reasons: reasons, vanished: vanished)
    }

    static func categories(_ v: DriftValues) -> [String?] {
        switch v {
        case .categories(let c): c
        case .numbers(let n): n.map { $0.isNaN ? nil : label($0) }
        }
    }

    static func label(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)" }

    static func counts(_ values: [String], _ keys: [String]) -> [Double] {
        var byKey: [String: Double] = [:]
        for v in values { byKey[v, default: 0] += 1 }
        return keys.map { byKey[$0] ?? 0 }
    }

    /// The population standard deviation.
    static func standardDeviation(_ a: [Double]) -> Double {
        guard !a.isEmpty else { return 0 }
        let mean = a.reduce(0, +) / Double(a.count)
        return (a.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(a.count)).squareRoot()
    }

    /// The first Wasserstein distance between two samples (sorted): ∫ |F_a − F_b| over the line.
    public static func wasserstein(_ a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        var (i, j) = (0, 0)
        var distance = 0.0
        var x = min(a[0], b[0])
        while i < a.count || j < b.count {
            let next = min(i < a.count ? a[i] : .infinity, j < b.count ? b[j] : .infinity)
            distance += abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)) * (next - x)
            while i < a.count && a[i] == next { i += 1 }
            while j < b.count && b[j] == next { j += 1 }
            x = next
        }
        return distance
    }

    /// The two-sided p-value of the two-proportion z-test on the share of `first` in each sample.
    static func zTestPValue(_ a: [String], _ b: [String], first: String?) -> Double {
        guard let first, !a.isEmpty, !b.isEmpty else { return 1 }
        let p1 = Double(a.count { $0 == first }) / Double(a.count)
        let p2 = Double(b.count { $0 == first }) / Double(b.count)
        let pooled = (p1 * Double(a.count) + p2 * Double(b.count)) / Double(a.count + b.count)
        let se = (pooled * (1 - pooled) * (1 / Double(a.count) + 1 / Double(b.count))).squareRoot()
        guard se > 0 else { return 1 }
        return 2 * Distributions.normalUpperTail(abs(p1 - p2) / se)
    }

    /// The chi-squared goodness of fit of the current counts to the reference's proportions.
    static func chiSquaredPValue(_ reference: [Double], _ current: [Double]) -> Double {
        let (n, m) = (reference.reduce(0, +), current.reduce(0, +))
        guard n > 0, m > 0 else { return 1 }
        var x = 0.0
        for (r, c) in zip(reference, current) {
            let expected = r * m / n
            if expected == 0 {
                if c > 0 { return 0 }
                continue
            }
            x += (c - expected) * (c - expected) / expected
        }
        return Distributions.chiSquaredUpperTail(x, df: reference.count - 1)
    }

    /// The Jensen–Shannon distance (natural log) between two count vectors, empty cells given a
    /// tiny share as Evidently does, so that a category seen on one side only counts.
    public static func jensenShannon(_ reference: [Double], _ current: [Double]) -> Double {
        func shares(_ c: [Double]) -> [Double] {
            let total = c.reduce(0, +)
            var s = c.map { total > 0 ? $0 / total : 0 }
            let smallest = s.filter { $0 > 0 }.min() ?? 1
            let fill = smallest <= 1e-4 ? smallest / 1e6 : 1e-4
            for i in s.indices where s[i] == 0 { s[i] = fill }
            let sum = s.reduce(0, +)
            return s.map { $0 / sum }
        }
        let (p, q) = (shares(reference), shares(current))
        var divergence = 0.0
        for (x, y) in zip(p, q) {
            let mid = (x + y) / 2
            divergence += 0.5 * (x * log(x / mid) + y * log(y / mid))
        }
        return max(0, divergence).squareRoot()
    }
}
