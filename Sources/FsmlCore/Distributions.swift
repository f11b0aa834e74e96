import Foundation

/// Tail probabilities of the distributions that drift and skew tests refer to, computed from
/// their textbook series (no statistics library at run time).
public enum Distributions {
    /// P(Z > z) for a standard normal Z.
    public static func normalUpperTail(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }

    /// P(K > λ) for Kolmogorov's distribution: 2 Σ (−1)^(k−1) exp(−2 k² λ²).
    public static func kolmogorovUpperTail(_ lambda: Double) -> Double {
        if lambda < 0.2 { return 1 }
        var sum = 0.0
        var sign = 1.0
        for k in 1...100 {
            let term = exp(-2 * Double(k * k) * lambda * lambda)
            sum += sign * term
            if term < 1e-16 * max(sum, 1e-300) { break }
            sign = -sign
        }
        return min(1, max(0, 2 * sum))
    }

    /// The p-value of a two-sample Kolmogorov–Smirnov statistic `d` between samples of n and m
    /// values: Kolmogorov's limit with Stephens' small-sample correction.
    public static func kolmogorovSmirnovPValue(_ d: Double, n: Int, m: Int) -> Double {
        guard n > 0, m > 0 else { return .nan }
        let en = (Double(n) * Double(m) / Double(n + m)).squareRoot()
        return kolmogorovUpperTail((en + 0.12 + 0.11 / en) * d)
    }

    /// P(X > x) for X chi-squared with `df` degrees of freedom.
    public static func chiSquaredUpperTail(_ x: Double, df: Int) -> Double {
        guard df > 0 else { return .nan }
        if x <= 0 { return 1 }
        return regularizedUpperGamma(Double(df) / 2, x / 2)
    }

    /// Q(a, x) = Γ(a, x) / Γ(a): its series below a + 1, its continued fraction above.
    static func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var term = 1 / a
            var sum = term
            var n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        // Lentz's method for the continued fraction.
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return min(1, exp(logPrefix) * h)
    }
}
