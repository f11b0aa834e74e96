import Foundation
import FsmlCore

/// What a sampler knows of one earlier trial: its values (numbers, or the index of a choice) and
/// how it ended.
public struct Observation: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case complete
        /// Stopped at a rung (0-based); `value` is its value there.
        case pruned(rung: Int)
    }

    public var trial: Int
    public var values: [Double]
    public var value: Double
    public var state: State

    public init(trial: Int, values: [Double], value: Double, state: State) {
        self.trial = trial
        self.values = values
        self.value = value
        self.state = state
    }
}

/// How trials are proposed.
public enum SamplerKind: String, Sendable, CaseIterable {
    case tpe, random
}

/// Draws values uniformly: log-uniform in log space, integers each with the same chance.
public enum RandomSampler {
    public static func sample(_ space: SearchSpace, rng: inout SeededRandom) -> [Double] {
        space.parameters.map { sample($0.distribution, rng: &rng) }
    }

    public static func sample(_ d: ParameterDistribution, rng: inout SeededRandom) -> Double {
        switch d {
        case .uniform(let lo, let hi): return lo + (hi - lo) * rng.uniform()
        case .logUniform(let lo, let hi): return min(hi, max(lo, exp(log(lo) + (log(hi) - log(lo)) * rng.uniform())))
        case .int(let lo, let hi, log: false): return Double(lo + rng.below(hi - lo + 1))
        case .int(let lo, let hi, log: true):
            let (a, b) = (log(Double(lo) - 0.5), log(Double(hi) + 0.5))
            return min(Double(hi), max(Double(lo), exp(a + (b - a) * rng.uniform()).rounded()))
        case .choice(let values): return Double(rng.below(values.count))
        }
    }
}
