import Foundation
import FsmlCore

/// One fold's data: train on one, judge on the other.
public struct FoldData: Sendable {
    public var train: LabeledData
    public var valid: LabeledData

    public init(train: LabeledData, valid: LabeledData) {
        self.train = train
        self.valid = valid
    }
}

/// What a study searches and how.
public struct StudyConfig: Sendable {
    public var space: SearchSpace
    /// Fixed parameters; `numIterations` is the full rounds of a trial, `earlyStoppingRounds`
    /// applies in every fold.
    public var base: TrainingParams
    public var metric: MetricKind
    public var sampler: SamplerKind = .tpe
    public var tpe = TPESampler()
    /// nil: no pruning.
    public var halving: SuccessiveHalving?
    /// Hyperband with halving: trial i is in bracket i mod `brackets`, starts at that rung (bracket
    /// b skips the first b rungs, the last bracket trains every trial in full) and competes only
    /// with the trials of its bracket. 1: plain successive halving.
    public var brackets = 1
    /// At most this many trials (nil: until the time runs out).
    public var trials: Int?
    /// No trial starts after this many seconds (nil: no limit).
    public var timeoutSeconds: Double?
    /// Trial i is proposed from trials 0...i − batch, whatever finished first: the trials depend
    /// on the seed and the batch, never on `parallel` or on timing.
    public var batch = 4
    /// Trials trained at once.
    public var parallel = 1
    /// Threads each trial trains with (results do not depend on it).
    public var threadsPerTrial = 1
    public var seed: UInt64 = 0

    public init(space: SearchSpace, base: TrainingParams, metric: MetricKind) {
        self.space = space
        self.base = base
        self.metric = metric
    }

    public var higherIsBetter: Bool { metric.higherIsBetter }
    public var rungs: [Int] { halving?.rungs ?? [base.numIterations] }
    /// The bracket of trial `n` (its first rung).
    public func bracket(of n: Int) -> Int { halving == nil ? 0 : n % max(1, min(brackets, rungs.count)) }
}

/// A trial as it ended.
public struct TrialResult: Sendable {
    public var number: Int
    /// Numbers, or indices of choices, in the space's order.
    public var values: [Double]
    /// The parameters as `name`, text value.
    public var assignments: [(name: String, value: String)]
    public var state: Observation.State
    /// The mean of the folds' values at the last rung reached.
    public var value: Double
    public var foldValues: [Double]
    /// Per fold, the iteration whose value counts (early stopping's best).
    public var foldBestIterations: [Int]
    /// (rounds, mean value) at each rung reached.
    public var rungValues: [(rounds: Int, value: Double)]
    public var seconds: Double

    public var pruned: Bool { state != .complete }
    public var observation: Observation { Observation(trial: number, values: values, value: value, state: state) }
}

/// Runs a study: proposes trials (TPE or random), trains each on every fold, prunes by successive
/// halving, up to `trials` or `timeoutSeconds`, `parallel` trials at a time. The same config gives
/// the same trials and the same best at any `parallel` and thread count: proposals and pruning
/// decisions read only trials numbered below (see `StudyConfig.batch`, `SuccessiveHalving`), every
/// random draw comes from the seed and the trial's number, and training results do not depend on
/// threads. A time limit only decides how many trials run: they are the first ones of the same
/// sequence.
public final class Study: @unchecked Sendable {
    public struct Events: Sendable {
        public var trialStarted: @Sendable (_ number: Int, _ assignments: [(name: String, value: String)]) -> Void = {
            _, _ in
        }
        public var rungFinished: @Sendable (_ number: Int, _ rounds: Int, _ value: Double) -> Void = { _, _, _ in }
        public var trialEnded: @Sendable (TrialResult) -> Void = { _ in }
        public init() {}
    }

    public let config: StudyConfig
    let folds: [FoldData]
    let events: Events

    // State, under `condition`.
    private let condition = NSCondition()
    private var nextTrial = 0
    private var started: [Int: (values: [Double], assignments: [(name: String, value: String)], start: UInt64)] = [:]
    private var settled: [Int: TrialResult] = [:]
    /// rung → trial → (value, per-fold values, per-fold best iterations, every fold stopped early).
    private var rungResults: [[Int: RungResult]]
    /// Trials that finished a rung below the last and wait for the decision.
    private var waiting: [Int: Int] = [:]
    /// (trial, rung) ready to train.
    private var ready: [(trial: Int, rung: Int)] = []
    private var running = 0
    private var failure: (any Error)?
    private var startNanos: UInt64 = 0
    private var ended: [TrialResult] = []

    struct RungResult {
        var value: Double
        var foldValues: [Double]
        var bestIterations: [Int]
        var allStoppedEarly: Bool
    }

    public init(config: StudyConfig, folds: [FoldData], events: Events = Events()) {
        self.config = config
        self.folds = folds
        self.events = events
        rungResults = Array(repeating: [:], count: config.rungs.count)
    }

    /// Runs the study to its end and returns every trial, in number order.
    public func run() throws -> [TrialResult] {
        startNanos = monotonicNanos()
        let workers = max(1, config.parallel)
        let done = DispatchGroup()
        for _ in 0..<workers {
            done.enter()
            let thread = Thread { [self] in
                work()
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        if let failure { throw failure }
        return settled.keys.sorted().map { settled[$0]! }
    }

    /// The best complete trial (the lowest number among equals).
    public static func best(_ trials: [TrialResult], higherIsBetter: Bool) -> TrialResult? {
        trials.filter { !$0.pruned && !$0.value.isNaN }.min { a, b in
            a.value != b.value ? (higherIsBetter ? a.value > b.value : a.value < b.value) : a.number < b.number
        }
    }

    // MARK: scheduling

    private func work() {
        condition.lock()
        while true {
            decide()
            flushEnded()
            if failure != nil { break }
            if let job = takeJob() {
                running += 1
                condition.unlock()
                var result: Result<RungResult, any Error>
                do { result = .success(try train(trial: job.trial, rung: job.rung)) } catch { result = .failure(error) }
                condition.lock()
                running -= 1
                switch result {
                case .success(let r): record(trial: job.trial, rung: job.rung, r)
                case .failure(let e): if failure == nil { failure = e }
                }
                condition.broadcast()
                continue
            }
            if running == 0 && ready.isEmpty && waiting.isEmpty && !canStart { break }
            condition.wait()
        }
        condition.broadcast()
        condition.unlock()
    }

    private var timeIsUp: Bool {
        guard let t = config.timeoutSeconds else { return false }
        return Double(monotonicNanos() - startNanos) / 1e9 >= t
    }

    /// Whether the next trial may start now (or later).
    private var canStart: Bool {
        if let t = config.trials, nextTrial >= t { return false }
        if config.trials == nil && config.timeoutSeconds == nil { return false }
        return !timeIsUp && failure == nil
    }

    private func takeJob() -> (trial: Int, rung: Int)? {
        if let i = ready.indices.min(by: { ready[$0].trial < ready[$1].trial }) { return ready.remove(at: i) }
        guard canStart else { return nil }
        let n = nextTrial
        let visible = n - max(1, config.batch) + 1
        for j in 0..<max(0, visible) where settled[j] == nil { return nil }
        nextTrial += 1
        let history = (0..<max(0, visible)).map { settled[$0]!.observation }
        var rng = SeededRandom(seed: config.seed, stream: UInt64(n))
        let values: [Double]
        switch config.sampler {
        case .random: values = RandomSampler.sample(config.space, rng: &rng)
        case .tpe:
            values = config.tpe.sample(
                config.space, history: history, higherIsBetter: config.higherIsBetter, rng: &rng)
        }
        let assignments = zip(config.space.parameters, values).map { ($0.name, $0.distribution.valueText($1)) }
        started[n] = (values, assignments, monotonicNanos())
        condition.unlock()
        events.trialStarted(n, assignments)
        condition.lock()
        return (n, config.bracket(of: n))
    }

    private func record(trial: Int, rung: Int, _ r: RungResult) {
        rungResults[rung][trial] = r
        let s = started[trial]!
        if rung == config.rungs.count - 1 {
            settle(trial, state: .complete, rung: rung)
        } else {
            waiting[trial] = rung
        }
        _ = s
    }

    /// Decides every waiting trial whose competitors at its rung are known, lowest numbers first.
    private func decide() {
        var changed = true
        while changed {
            changed = false
            for trial in waiting.keys.sorted() {
                let rung = waiting[trial]!
                var competing: [Double] = []
                var decidable = true
                let bracket = config.bracket(of: trial)
                for j in 0...trial where config.bracket(of: j) == bracket {
                    if let r = rungResults[rung][j] {
                        competing.append(r.value)
                    } else if let s = settled[j], case .pruned(let k) = s.state, k < rung {
                        continue
                    } else {
                        decidable = false
                        break
                    }
                }
                guard decidable else { continue }
                waiting[trial] = nil
                changed = true
                let value = rungResults[rung][trial]!.value
                let promoted =
                    config.halving?.promotes(value, competing: competing, higherIsBetter: config.higherIsBetter)
                    ?? true
                if !promoted {
                    settle(trial, state: .pruned(rung: rung), rung: rung)
                } else if rungResults[rung][trial]!.allStoppedEarly {
                    // Early stopping ended every fold before this rung's rounds: more rounds train
                    // the same trees.
                    record(trial: trial, rung: rung + 1, rungResults[rung][trial]!)
                } else {
                    ready.append((trial, rung + 1))
                }
            }
        }
    }

    private func settle(_ trial: Int, state: Observation.State, rung: Int) {
        let s = started[trial]!
        let r = rungResults[rung][trial]!
        let result = TrialResult(
            number: trial, values: s.values, assignments: s.assignments, state: state, value: r.value,
            foldValues: r.foldValues, foldBestIterations: r.bestIterations,
            rungValues: (0...rung).compactMap { k in rungResults[k][trial].map { (config.rungs[k], $0.value) } },
            seconds: Double(monotonicNanos() - s.start) / 1e9)
        settled[trial] = result
        ended.append(result)
    }

    private func flushEnded() {
        guard !ended.isEmpty else { return }
        let list = ended
        ended = []
        condition.unlock()
        for r in list { events.trialEnded(r) }
        condition.lock()
    }

    // MARK: training

    /// The parameters of a trial: the base, then its values (names and aliases as `--param` takes them).
    public static func parameters(
        base: TrainingParams, assignments: [(name: String, value: String)]
    ) throws(TrainingParams.ParseError) -> TrainingParams {
        var p = base
        for (name, value) in assignments { try p.set(name, value) }
        return p
    }

    private func train(trial: Int, rung: Int) throws -> RungResult {
        let s = condition.withLock { started[trial]! }
        var params = try Self.parameters(base: config.base, assignments: s.assignments)
        let rounds = config.rungs[rung]
        params.numIterations = rounds
        params.metrics = [config.metric]
        params.numThreads = config.threadsPerTrial
        let e = try Self.evaluate(params, folds: folds)
        events.rungFinished(trial, rounds, e.value)
        return RungResult(
            value: e.value, foldValues: e.foldValues, bestIterations: e.bestIterations,
            allStoppedEarly: e.allStoppedEarly)
    }

    /// Trains `params` on every fold and judges each on its validation rows by the first metric of
    /// `params.metrics`, at the iteration early stopping kept: the mean, and each fold's.
    public static func evaluate(
        _ params: TrainingParams, folds: [FoldData]
    ) throws -> (value: Double, foldValues: [Double], bestIterations: [Int], allStoppedEarly: Bool) {
        var values: [Double] = []
        var best: [Int] = []
        var allStopped = true
        for fold in folds {
            let result = try Booster.train(fold.train, valid: fold.valid, params: params)
            let index = max(0, min(result.bestIteration, result.history.count) - 1)
            values.append(result.history.isEmpty ? .nan : result.history[index].valid[0].value)
            best.append(result.bestIteration)
            if result.history.count >= params.numIterations { allStopped = false }
        }
        return (values.reduce(0, +) / Double(max(1, values.count)), values, best, allStopped)
    }
}
