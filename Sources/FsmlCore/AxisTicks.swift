import Foundation

/// Tick marks on round numbers for a chart axis: steps of 1, 2 or 5 times a power of ten, labelled
/// with as many decimals as the step needs, so that no two ticks read the same.
public struct AxisTicks: Sendable, Equatable {
    /// The axis range: the data's range widened to whole steps, or the range asked for.
    public var range: ClosedRange<Double>
    public var values: [Double]
    public var step: Double
    /// Decimals in every label (the step's own).
    public var decimals: Int

    /// Ticks for data spanning `data`: about `target` steps, the range widened to whole steps.
    /// A range of one value is widened around it; `floorAtZero` keeps a range of values that
    /// are all at least zero from reaching below zero (latencies, rates, counts).
    /// `integers` keeps the step at 1 or more (iterations, counts).
    public init(data: ClosedRange<Double>, target: Int = 5, floorAtZero: Bool = false, integers: Bool = false) {
        var lo = data.lowerBound
        var hi = data.upperBound
        if !(lo.isFinite && hi.isFinite) { (lo, hi) = (0, 1) }
        if hi == lo {
            let pad = lo == 0 ? 1 : abs(lo) * 0.05
            (lo, hi) = (lo - pad, hi + pad)
            if floorAtZero && data.lowerBound >= 0 { lo = max(lo, 0) }
        }
        let raw = Self.niceStep((hi - lo) / Double(max(target, 1)))
        let step = integers ? max(1, raw) : raw
        let low = (lo / step).rounded(.down) * step
        let high = (hi / step).rounded(.up) * step
        self.init(fixed: low...high, step: step)
    }

    /// Ticks inside a fixed range (0…1 for rates and probabilities), about `target` steps.
    public init(fixed: ClosedRange<Double>, target: Int = 5) {
        let width = fixed.upperBound - fixed.lowerBound
        self.init(fixed: fixed, step: Self.niceStep(width > 0 ? width / Double(max(target, 1)) : 1))
    }

    private init(fixed: ClosedRange<Double>, step: Double) {
        range = fixed
        self.step = step
        decimals = max(0, -Int((log10(step) + 1e-9).rounded(.down)))
        var values: [Double] = []
        var k = (fixed.lowerBound / step - 1e-9).rounded(.up)
        while k * step <= fixed.upperBound + step * 1e-9 {
            // k · step, not a running sum: no drift across ticks.
            values.append(k * step == 0 ? 0 : k * step)
            k += 1
        }
        self.values = values
    }

    /// The label of a tick value.
    public func label(_ v: Double) -> String {
        if decimals == 0 && abs(v) >= 1e6 {
            return abs(v) >= 1e9 ? Self.trimmed(v / 1e9) + "G" : Self.trimmed(v / 1e6) + "M"
        }
        return String(format: "%.\(decimals)f", v)
    }

    private static func trimmed(_ v: Double) -> String {
        var s = String(format: "%.2f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// The round step (1, 2 or 5 × 10^k) nearest above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let power = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / power
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        return nice * power
    }
}
