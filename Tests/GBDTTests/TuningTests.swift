import Foundation
import FsmlCore
import Testing

@testable import GBDT

@Suite struct SearchSpaceTests {
    @Test func parsesTheFourKindsAndRejectsNonsense() throws {
        let s = try SearchSpace.parse(
            "learning_rate=loguniform(0.01,0.3) num_leaves=int(8, 128) feature_fraction=uniform(0.5,1) min_data_in_leaf=choice(10,20,50) max_bin=int(16,255,log)"
        )
        #expect(
            s.parameters.map(\.name) == [
                "learning_rate", "num_leaves", "feature_fraction", "min_data_in_leaf", "max_bin",
            ])
        #expect(s.parameters[0].distribution == .logUniform(0.01, 0.3))
        #expect(s.parameters[1].distribution == .int(8, 128, log: false))
        #expect(s.parameters[2].distribution == .uniform(0.5, 1))
        #expect(s.parameters[3].distribution == .choice(["10", "20", "50"]))
        #expect(s.parameters[4].distribution == .int(16, 255, log: true))
        for bad in [
            "x=uniform(1,0)", "x=loguniform(0,1)", "x=gauss(0,1)", "x", "x=int(1.5,3)", "x=choice(a,a)",
            "a=int(1,2) a=int(1,3)",
        ] {
            #expect(throws: SearchSpace.ParseError.self, "\(bad)") { try SearchSpace.parse(bad) }
        }
    }

    @Test func readsTheTuneBlockOfAYAMLFile() throws {
        let yaml = """
            project: shop
            tune:
              trials: 40   # budget
              metric: valid_auc
              space:
                learning_rate: loguniform(0.01, 0.3)
                num_leaves: int(8, 128)
                min_data_in_leaf: choice(10, 20, 50)
            other:
              key: value
            """
        let (space, settings) = try SearchSpace.parseYAML(yaml, file: "t.yaml")
        #expect(space.parameters.map(\.name) == ["learning_rate", "num_leaves", "min_data_in_leaf"])
        #expect(settings == ["trials": "40", "metric": "valid_auc"])
        let short = try SearchSpace.parseYAML("tune:\n  eta: uniform(0.01, 0.2)\n", file: "s.yaml")
        #expect(short.space.parameters.map(\.name) == ["eta"])
        #expect(throws: SearchSpace.ParseError.self) { try SearchSpace.parseYAML("a: 1\n", file: "n.yaml") }
    }
}

@Suite struct TPESamplerTests {
    /// Runs `budget` sequential trials of a sampler on `f` (maximised); returns the values found.
    static func optimize(
        _ kind: SamplerKind, _ space: SearchSpace, seed: UInt64, budget: Int, _ f: ([Double]) -> Double
    ) -> [Double] {
        var history: [Observation] = []
        for i in 0..<budget {
            var rng = SeededRandom(seed: seed, stream: UInt64(i))
            let x =
                kind == .tpe
                ? TPESampler().sample(space, history: history, higherIsBetter: true, rng: &rng)
                : RandomSampler.sample(space, rng: &rng)
            for (p, v) in zip(space.parameters, x) {
                switch p.distribution {
                case .uniform(let lo, let hi), .logUniform(let lo, let hi): #expect(v >= lo && v <= hi)
                case .int(let lo, let hi, _): #expect(v == v.rounded() && v >= Double(lo) && v <= Double(hi))
                case .choice(let values): #expect(Int(v) >= 0 && Int(v) < values.count)
                }
            }
            history.append(Observation(trial: i, values: x, value: f(x), state: .complete))
        }
        return history.map(\.value)
    }

    /// Mean regret of the best value found over seeds, TPE against random with the same budget and seeds.
    static func regrets(
        _ space: SearchSpace, budget: Int, optimum: Double, _ f: ([Double]) -> Double
    ) -> (
        tpe: Double, random: Double, tpeWins: Int
    ) {
        var (tpe, random, wins) = (0.0, 0.0, 0)
        for seed in 0..<UInt64(12) {
            let a = optimum - optimize(.tpe, space, seed: seed, budget: budget, f).max()!
            let b = optimum - optimize(.random, space, seed: seed, budget: budget, f).max()!
            tpe += a / 12
            random += b / 12
            if a < b { wins += 1 }
        }
        return (tpe, random, wins)
    }

    @Test func beatsRandomSearchOnALogScaled1DFunction() {
        // The best learning rate is 0.003 on a log scale from 1e-5 to 1.
        let space = SearchSpace([("learning_rate", .logUniform(1e-5, 1))])
        let r = Self.regrets(space, budget: 30, optimum: 0) { x in -pow(log10(x[0]) - log10(0.003), 2) }
        #expect(r.tpe < r.random / 2, "TPE regret \(r.tpe), random \(r.random)")
        #expect(r.tpeWins >= 9)
    }

    @Test func beatsRandomSearchOnA2DFunctionWithIntegersAndChoices() {
        let space = SearchSpace([
            ("x", .uniform(-5, 5)), ("leaves", .int(2, 256, log: false)), ("kind", .choice(["a", "b", "c", "d"])),
        ])
        let f: ([Double]) -> Double = { x in
            -pow(x[0] - 1.3, 2) - pow((x[1] - 90) / 40, 2) - (x[2] == 2 ? 0 : 1)
        }
        let r = Self.regrets(space, budget: 40, optimum: 0, f)
        #expect(r.tpe < r.random * 0.7, "TPE regret \(r.tpe), random \(r.random)")
        #expect(r.tpeWins >= 8)
    }

    @Test func theSameSeedGivesTheSameProposals() {
        let space = SearchSpace([
            ("a", .logUniform(0.01, 1)), ("b", .int(1, 9, log: true)), ("c", .choice(["x", "y"])),
        ])
        let f: ([Double]) -> Double = { x in x[0] * x[1] + x[2] }
        #expect(
            Self.optimize(.tpe, space, seed: 7, budget: 25, f) == Self.optimize(.tpe, space, seed: 7, budget: 25, f))
        #expect(
            Self.optimize(.tpe, space, seed: 7, budget: 25, f) != Self.optimize(.tpe, space, seed: 8, budget: 25, f))
    }

    @Test func splitsGoodAndBadTrialsAsOptunaDoes() {
        #expect((1...30).map(TPESampler.gamma) == (1...30).map { min(Int((Double($0) / 10).rounded(.up)), 25) })
        #expect(TPESampler.gamma(1000) == 25)
        #expect(TPESampler.weights(3) == [1, 1, 1])
        let w = TPESampler.weights(30)
        #expect(w.count == 30 && w.suffix(25).allSatisfy { $0 == 1 } && w[0] < w[4])
        let history =
            (0..<10).map { Observation(trial: $0, values: [0], value: Double($0), state: .complete) }
            + [Observation(trial: 10, values: [0], value: 99, state: .pruned(rung: 1))]
        let (below, above) = TPESampler.split(history, higherIsBetter: true)
        #expect(below.map(\.trial) == [8, 9])  // gamma(11) = 2: the two best complete trials
        #expect(above.count == 9)
    }
}

@Suite struct SuccessiveHalvingTests {
    @Test func rungsFollowHyperbandsGeometricSchedule() {
        #expect(SuccessiveHalving(eta: 3, minRounds: 18, maxRounds: 500).rungs == [18, 55, 166, 500])
        #expect(SuccessiveHalving(eta: 3, minRounds: 10, maxRounds: 100).rungs == [11, 33, 100])
        #expect(SuccessiveHalving(eta: 2, minRounds: 5, maxRounds: 40).rungs == [5, 10, 20, 40])
        #expect(SuccessiveHalving(eta: 3, minRounds: 50, maxRounds: 40).rungs == [40])
        #expect(SuccessiveHalving.defaultMinRounds(maxRounds: 500, eta: 3) == 18)
        #expect(SuccessiveHalving.defaultMinRounds(maxRounds: 100, eta: 3) == 10)
    }

    @Test func keepsTheTopOneOverEtaOfTheTrialsSoFar() {
        let h = SuccessiveHalving(eta: 3, minRounds: 1, maxRounds: 9)
        // Fewer than eta values: only the best goes on (Optuna's rule for the first trials).
        #expect(h.promotes(0.7, competing: [0.7], higherIsBetter: true))
        #expect(!h.promotes(0.6, competing: [0.7, 0.6], higherIsBetter: true))
        #expect(h.promotes(0.8, competing: [0.7, 0.8], higherIsBetter: true))
        // Six values: the top two.
        let six = [0.61, 0.72, 0.55, 0.80, 0.64, 0.70]
        #expect(six.filter { h.promotes($0, competing: six, higherIsBetter: true) }.sorted() == [0.72, 0.80])
        // Lower is better for a loss.
        #expect(six.filter { h.promotes($0, competing: six, higherIsBetter: false) }.sorted() == [0.55, 0.61])
        #expect(!h.promotes(.nan, competing: six + [.nan], higherIsBetter: true))
    }
}

@Suite struct RollingOriginFoldsTests {
    @Test func foldsByHandWithAGap() throws {
        // Twelve rows an hour apart, shuffled; three folds of three validation rows; a one-hour gap.
        let hour: Micros = 3_600_000_000
        let hours: [Micros] = [7, 0, 11, 3, 5, 1, 9, 2, 10, 4, 8, 6]
        let times = hours.map { $0 * hour }
        let folds = try RollingOriginFolds(times: times, folds: 3, gap: hour).folds
        func hoursOf(_ rows: [Int]) -> [Micros] { rows.map { hours[$0] }.sorted() }
        #expect(folds.map { hoursOf($0.valid) } == [[3, 4, 5], [6, 7, 8], [9, 10, 11]])
        #expect(folds.map { hoursOf($0.train) } == [[0, 1], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5, 6, 7]])
        #expect(folds.map { $0.validStart / hour } == [3, 6, 9])
        #expect(folds.map { $0.trainEnd / hour } == [2, 5, 8])
        #expect(folds[2].validEnd == 11 * hour + 1)
    }

    @Test func neverCutsBetweenRowsOfTheSameTimeNorTrainsOnTheFuture() throws {
        let times: [Micros] = [0, 0, 1, 1, 1, 1, 2, 2, 3, 3]
        let folds = try RollingOriginFolds(times: times, folds: 2, gap: 0).folds
        // The cut at 10/3 = 3 moves past the tie of time 1 to 6; the next, 20/3 = 6, goes past that cut
        // to 7 and past the tie of time 2 to 8.
        #expect(folds[0].valid == [6, 7] && folds[0].train == [0, 1, 2, 3, 4, 5])
        #expect(folds[1].valid == [8, 9])
        var rng = SeededRandom(seed: 3)
        for _ in 0..<20 {
            let t = (0..<200).map { _ in Micros(rng.below(1000)) }
            let gap = Micros(rng.below(50))
            for f in try RollingOriginFolds(times: t, folds: 4, gap: gap).folds {
                let firstValid = f.valid.map { t[$0] }.min()!
                #expect(f.train.allSatisfy { t[$0] < firstValid - gap })
                #expect(f.valid.allSatisfy { t[$0] >= f.validStart && t[$0] < f.validEnd })
                #expect(Set(f.train).isDisjoint(with: f.valid))
            }
        }
        #expect(throws: RollingOriginFolds.Failure.self) { try RollingOriginFolds(times: [0, 1, 2], folds: 2, gap: 5) }
        #expect(throws: RollingOriginFolds.Failure.self) {
            try RollingOriginFolds(times: [0, 1, 1, 1], folds: 3, gap: 0)
        }
    }
}

@Suite struct StudyTests {
    static func folds() -> [FoldData] {
        let all = Fixture.synthetic(rows: 1500, features: 5, seed: 11)
        func rows(_ r: Range<Int>) -> LabeledData {
            let c = all.features.columns
            return LabeledData(
                features: DenseMatrix(
                    rows: r.count, columns: c,
                    values: Array(all.features.values[(r.lowerBound * c)..<(r.upperBound * c)])),
                labels: Array(all.labels[r]))
        }
        return [
            FoldData(train: rows(0..<500), valid: rows(500..<1000)),
            FoldData(train: rows(0..<1000), valid: rows(1000..<1500)),
        ]
    }

    static func config(halving: Bool, brackets: Int = 1) throws -> StudyConfig {
        var base = TrainingParams()
        base.numIterations = 27
        base.earlyStoppingRounds = 5
        base.maxBin = 32
        var c = StudyConfig(
            space: try SearchSpace.parse(
                "learning_rate=loguniform(0.02,0.5) num_leaves=int(2,24) feature_fraction=uniform(0.5,1) min_data_in_leaf=choice(5,20,80)"
            ),
            base: base, metric: .auc)
        c.tpe = TPESampler(startupTrials: 4)
        c.trials = 12
        c.batch = 3
        c.seed = 5
        if halving { c.halving = SuccessiveHalving(eta: 3, minRounds: 3, maxRounds: 27) }
        c.brackets = brackets
        return c
    }

    static func fingerprint(_ trials: [TrialResult]) -> [String] {
        trials.map {
            "\($0.number) \($0.values) \($0.state) \($0.value) \($0.foldValues) \($0.rungValues.map(\.rounds))"
        }
    }

    @Test func theSameSeedGivesTheSameTrialsAtAnyParallelism() throws {
        let folds = Self.folds()
        for (halving, brackets) in [(false, 1), (true, 1), (true, 4)] {
            var c = try Self.config(halving: halving, brackets: brackets)
            c.parallel = 1
            c.threadsPerTrial = 1
            let one = try Study(config: c, folds: folds).run()
            c.parallel = 3
            c.threadsPerTrial = 2
            let three = try Study(config: c, folds: folds).run()
            #expect(one.count == 12)
            #expect(Self.fingerprint(one) == Self.fingerprint(three))
            #expect(Study.best(one, higherIsBetter: true)?.number == Study.best(three, higherIsBetter: true)?.number)
            #expect(one.allSatisfy { $0.pruned || $0.foldValues.count == 2 })
            if halving {
                #expect(one.contains { $0.pruned })
                // Rungs 3, 9, 27; with Hyperband (4 brackets asked, as many as rungs kept) trial i starts at rung i mod 3.
                #expect(c.rungs == [3, 9, 27])
                for t in one { #expect(t.rungValues.first?.rounds == c.rungs[c.bracket(of: t.number)]) }
                // Each pruned trial was outside the top third of the trials of its bracket numbered up
                // to it at its rung.
                for t in one where t.pruned {
                    guard case .pruned(let rung) = t.state else { continue }
                    let competing = one.prefix(t.number + 1).filter {
                        c.bracket(of: $0.number) == c.bracket(of: t.number)
                    }
                    .compactMap { u in u.rungValues.first { $0.rounds == c.rungs[rung] }?.value }
                    #expect(!c.halving!.promotes(t.value, competing: competing, higherIsBetter: true))
                }
            }
        }
    }

    @Test func aTrialThatSurvivesEveryRungMatchesTheUnprunedTrial() throws {
        // Rounds up to r are the same trees whether training stops at r or goes on: a complete
        // trial's value does not depend on the pruner.
        let folds = Self.folds()
        let pruned = try Study(config: try Self.config(halving: true), folds: folds).run()
        let plain = try Study(config: try Self.config(halving: false), folds: folds).run()
        let first = pruned[0]
        #expect(!first.pruned && first.values == plain[0].values && first.value == plain[0].value)
    }
}
