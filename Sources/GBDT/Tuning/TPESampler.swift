import Foundation
import FsmlCore

/// The tree-structured Parzen estimator (Bergstra et al. 2011), as Optuna's default `TPESampler`
/// does it, one parameter at a time: earlier trials are split by a quantile `gamma(n)` of their
/// values into good ("below") and bad ("above"); each side gets a Parzen estimator per parameter
/// (truncated normal kernels with Optuna's bandwidths in log space for log ranges, a discrete
/// kernel for integers, a smoothed categorical for choices, and a prior kernel); the candidate,
/// among `candidates` draws from the good side l(x), with the largest l(x)/g(x) is proposed. The
/// first `startupTrials` trials are random.
public struct TPESampler: Sendable {
    public var startupTrials = 10
    public var candidates = 24
    public var priorWeight = 1.0

    public init(startupTrials: Int = 10, candidates: Int = 24) {
        self.startupTrials = startupTrials
        self.candidates = candidates
    }

    /// Optuna's default: 10 % of the trials, at most 25, at least 1.
    public static func gamma(_ n: Int) -> Int { min(Int((0.1 * Double(n)).rounded(.up)), 25) }

    /// Optuna's default weights: older trials count less once there are more than 25.
    public static func weights(_ n: Int) -> [Double] {
        if n == 0 { return [] }
        if n < 25 { return [Double](repeating: 1, count: n) }
        let ramp = n - 25
        // numpy's linspace(1 / n, 1, n - 25), then 25 ones.
        let lo = 1.0 / Double(n)
        var first: [Double] = []
        for i in 0..<ramp {
            let t: Double = ramp == 1 ? 0 : Double(i) / Double(ramp - 1)
            first.append(lo + (1 - lo) * t)
        }
        return first + [Double](repeating: 1, count: 25)
    }

    /// The next trial's values (numbers, or choice indices) from the observations of earlier trials.
    /// `higherIsBetter` says which way the values point.
    public func sample(
        _ space: SearchSpace, history: [Observation], higherIsBetter: Bool, rng: inout SeededRandom
    ) -> [Double] {
        if history.count < startupTrials { return RandomSampler.sample(space, rng: &rng) }
        let (below, above) = Self.split(history, higherIsBetter: higherIsBetter)
        let wBelow = Self.weights(below.count)
        let wAbove = Self.weights(above.count)
        return space.parameters.indices.map { p in
            let d = space.parameters[p].distribution
            let l = ParzenEstimator(d, observations: below.map { $0.values[p] }, weights: wBelow, prior: priorWeight)
            let g = ParzenEstimator(d, observations: above.map { $0.values[p] }, weights: wAbove, prior: priorWeight)
            var best: (x: Double, score: Double)?
            for _ in 0..<candidates {
                let x = l.sample(rng: &rng)
                let score = l.logDensity(x) - g.logDensity(x)
                if best == nil || score > best!.score { best = (x, score) }
            }
            return d.external(best!.x)
        }
    }

    /// Good and bad trials, each in trial order: the best `gamma(n)` complete trials, then pruned
    /// ones that got furthest (and did best there) when there are too few complete ones.
    static func split(_ history: [Observation], higherIsBetter: Bool) -> (below: [Observation], above: [Observation]) {
        func loss(_ o: Observation) -> Double { o.value.isNaN ? .infinity : higherIsBetter ? -o.value : o.value }
        var nBelow = gamma(history.count)
        let complete = history.filter { $0.state == .complete }.sorted { (loss($0), $0.trial) < (loss($1), $1.trial) }
        let pruned = history.filter { $0.state != .complete }.sorted { a, b in
            let (ra, rb) = (a.rung, b.rung)
            return ra != rb ? ra > rb : (loss(a), a.trial) < (loss(b), b.trial)
        }
        var below = Array(complete.prefix(nBelow))
        var above = Array(complete.dropFirst(nBelow))
        nBelow -= below.count
        below += pruned.prefix(nBelow)
        above += pruned.dropFirst(nBelow)
        return (below.sorted { $0.trial < $1.trial }, above.sorted { $0.trial < $1.trial })
    }
}

extension Observation {
    var rung: Int {
        if case .pruned(let r) = state { return r }
        return Int.max
    }
}

extension ParameterDistribution {
    /// A sampled value in the space the trial uses: integers rounded into their range.
    func external(_ x: Double) -> Double {
        switch self {
        case .uniform(let lo, let hi), .logUniform(let lo, let hi): return min(hi, max(lo, x))
        case .int(let lo, let hi, _): return min(Double(hi), max(Double(lo), x.rounded()))
        case .choice: return x
        }
    }
}

/// A weighted mixture of one kernel per observation plus a prior kernel, for one parameter.
struct ParzenEstimator {
    enum Kind {
        /// Truncated normals on [low, high], in log space when `log`; `step` 1 makes them discrete.
        case numeric(low: Double, high: Double, log: Bool, discrete: Bool)
        case categorical(count: Int)
    }

    let kind: Kind
    let weights: [Double]
    let mus: [Double]
    let sigmas: [Double]
    /// Categorical: each kernel's probabilities.
    let tables: [[Double]]

    init(_ d: ParameterDistribution, observations: [Double], weights w: [Double], prior: Double) {
        var weights = w + [prior]
        if observations.isEmpty { weights = [1] }
        let total = weights.reduce(0, +)
        self.weights = weights.map { $0 / total }
        switch d {
        case .choice(let values):
            kind = .categorical(count: values.count)
            let n = values.count
            let kernels = observations.count + 1
            var tables: [[Double]] = []
            for o in observations {
                var row = [Double](repeating: prior / Double(kernels), count: n)
                row[Int(o)] += 1
                let s = row.reduce(0, +)
                tables.append(row.map { $0 / s })
            }
            tables.append([Double](repeating: 1 / Double(n), count: n))
            self.tables = tables
            mus = []
            sigmas = []
            return
        case .uniform(let lo, let hi): kind = .numeric(low: lo, high: hi, log: false, discrete: false)
        case .logUniform(let lo, let hi): kind = .numeric(low: log(lo), high: log(hi), log: true, discrete: false)
        case .int(let lo, let hi, log: false):
            kind = .numeric(low: Double(lo), high: Double(hi), log: false, discrete: true)
        case .int(let lo, let hi, log: true):
            kind = .numeric(low: log(Double(lo) - 0.5), high: log(Double(hi) + 0.5), log: true, discrete: false)
        }
        tables = []
        guard case .numeric(let low, let high, let isLog, let discrete) = kind else { fatalError() }
        let step = discrete ? 1.0 : 0
        let xs = observations.map { isLog ? log($0) : $0 }
        // Optuna's univariate bandwidths: the larger gap to a neighbour (the prior's mean among the
        // points, the range's ends beyond them), clipped to [range / min(100, 1 + kernels), range].
        let priorMu = 0.5 * (low + high)
        let withPrior = xs + [priorMu]
        let order = withPrior.indices.sorted { (withPrior[$0], $0) < (withPrior[$1], $1) }
        var sorted: [Double] = [low - step / 2]
        for i in order { sorted.append(withPrior[i]) }
        sorted.append(high + step / 2)
        var sortedSigmas: [Double] = []
        for i in 1..<(sorted.count - 1) {
            let left: Double = sorted[i] - sorted[i - 1]
            let right: Double = sorted[i + 1] - sorted[i]
            sortedSigmas.append(max(left, right))
        }
        if sorted.count >= 4 {
            sortedSigmas[0] = sorted[2] - sorted[1]
            sortedSigmas[sortedSigmas.count - 1] = sorted[sorted.count - 2] - sorted[sorted.count - 3]
        }
        var sigmaOf = [Double](repeating: 0, count: withPrior.count)
        for (rank, i) in order.enumerated() { sigmaOf[i] = sortedSigmas[rank] }
        let range = high - low + step
        let minSigma = range / min(100, 1 + Double(xs.count + 1))
        mus = xs + [priorMu]
        sigmas = Array(sigmaOf.prefix(xs.count)).map { min(range, max(minSigma, $0)) } + [range]
    }

    func sample(rng: inout SeededRandom) -> Double {
        var u = rng.uniform()
        var k = 0
        while k < weights.count - 1 && u >= weights[k] {
            u -= weights[k]
            k += 1
        }
        switch kind {
        case .categorical(let n):
            var v = rng.uniform()
            for c in 0..<n {
                if v < tables[k][c] { return Double(c) }
                v -= tables[k][c]
            }
            return Double(n - 1)
        case .numeric(let low, let high, let isLog, let discrete):
            let (a, b) = discrete ? (low - 0.5, high + 0.5) : (low, high)
            var x = mus[k]
            for _ in 0..<100 {
                let y = mus[k] + sigmas[k] * rng.normal()
                if y >= a && y <= b {
                    x = y
                    break
                }
            }
            if discrete { return min(high, max(low, x.rounded())) }
            return isLog ? exp(x) : x
        }
    }

    /// log of the mixture's density (or probability, for discrete kinds) at `x`.
    func logDensity(_ external: Double) -> Double {
        var terms: [Double] = []
        switch kind {
        case .categorical:
            let c = Int(external)
            for k in weights.indices { terms.append(log(weights[k]) + log(tables[k][c])) }
        case .numeric(let low, let high, let isLog, let discrete):
            let x = isLog ? log(external) : external
            for k in weights.indices {
                let (mu, s) = (mus[k], sigmas[k])
                if discrete {
                    let mass = Self.cdf((x + 0.5 - mu) / s) - Self.cdf((x - 0.5 - mu) / s)
                    let total = Self.cdf((high + 0.5 - mu) / s) - Self.cdf((low - 0.5 - mu) / s)
                    terms.append(log(weights[k]) + log(max(mass, 1e-300)) - log(max(total, 1e-300)))
                } else {
                    let z = (x - mu) / s
                    let total = Self.cdf((high - mu) / s) - Self.cdf((low - mu) / s)
                    terms.append(
                        log(weights[k]) - 0.5 * z * z - log(s) - 0.5 * log(2 * Double.pi) - log(max(total, 1e-300)))
                }
            }
        }
        let m = terms.max() ?? -.infinity
        if m == -.infinity { return m }
        return m + log(terms.reduce(0) { $0 + exp($1 - m) })
    }

    static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }
}
