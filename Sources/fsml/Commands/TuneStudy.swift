import ArgumentParser
import FeatureCore
import FsmlCore
import GBDT
import PointInTime
import Tracking
import Workflows

/// `fsml tune`: examples → rolling-origin folds → a study of trials, each a child run of the
/// study's run → the best logged (and, with --promote, retrained on every row and promoted).
struct TuneStudy {
    let command: Tune

    /// Settings: the command line first, then the `tune:` block of --space-file, then defaults.
    struct Settings {
        var space: SearchSpace
        var trials: Int?
        var timeout: Micros?
        var sampler: SamplerKind
        var pruner: Tune.PrunerKind
        var cv: Int
        var metric: MetricKind
        var seed: UInt64
    }

    func settings() throws -> Settings {
        var space: SearchSpace
        var file: [String: String] = [:]
        if let path = command.spaceFile {
            (space, file) = try SearchSpace.parseYAML(try FileSystem.readText(path), file: path)
        } else {
            space = try SearchSpace.parse(command.spaces.joined(separator: " "))
        }
        func fileValue<T>(_ key: String, _ parse: (String) -> T?) throws -> T? {
            guard let text = file[key] else { return nil }
            guard let v = parse(text) else {
                throw CLIError("\(command.spaceFile!): tune.\(key): '\(text)' is not valid")
            }
            return v
        }
        var trials = try command.trials ?? fileValue("trials") { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        let timeout = try command.timeout.flatMap(DurationText.parse) ?? fileValue("timeout", DurationText.parse)
        if trials == nil && timeout == nil { trials = 30 }
        let metricName = try command.metric ?? fileValue("metric") { $0 } ?? "valid_auc"
        let bare = (metricName.hasPrefix("valid_") ? String(metricName.dropFirst(6)) : metricName)
            .replacingOccurrences(of: "_at_", with: "@")
        guard let metric = MetricKind(name: bare) else {
            throw CLIError(
                "--metric \(metricName): one of \(MetricKind.allCases.map { "valid_\($0.rawValue)" }.joined(separator: ", "))"
            )
        }
        return Settings(
            space: space, trials: trials, timeout: timeout,
            sampler: try command.sampler ?? fileValue("sampler") { SamplerKind(rawValue: $0) } ?? .tpe,
            pruner: try command.pruner ?? fileValue("pruner") { Tune.PrunerKind(rawValue: $0) } ?? .none,
            cv: try command.cv ?? fileValue("cv") { Int($0).flatMap { $0 > 0 ? $0 : nil } } ?? 3, metric: metric,
            seed: try command.seed ?? fileValue("seed") { UInt64($0) } ?? 0)
    }

    func run() throws {
        let s = try settings()
        if let dataset = command.dataset {
            let m = DatasetManifest.path(forDataset: dataset)
            if FileSystem.exists(m) { try DatasetManifest.verify(dataset: dataset, manifest: m) }
        }
        // Fixed parameters: LightGBM's defaults with room for slow learning rates, early stopping
        // in every fold, the study's seed; then --param.
        var base = TrainingParams()
        base.numIterations = 500
        base.earlyStoppingRounds = 30
        base.seed = s.seed
        try base.apply(command.params)
        base.metrics = [s.metric]
        // Every value of the space must be a parameter the trainer takes.
        for p in s.space.parameters {
            let probes: [Double]
            switch p.distribution {
            case .uniform(let lo, let hi), .logUniform(let lo, let hi): probes = [lo, hi]
            case .int(let lo, let hi, _): probes = [Double(lo), Double(hi)]
            case .choice(let values): probes = values.indices.map(Double.init)
            }
            for x in probes {
                do { _ = try Study.parameters(base: base, assignments: [(p.name, p.distribution.valueText(x))]) } catch
                {
                    throw CLIError("--space \(p.name): \(error)")
                }
            }
        }

        let store = command.tracking.store
        let exp = try store.experimentCreatingIfNeeded(command.experiment)
        var tags = RunTags.standard()
        tags["fsml.tune.role"] = "study"
        let parent = try RunWriter(store: store, experiment: exp, name: command.runName, tags: tags)
        StandardError.line("study \(parent.id) (\(parent.name)) in experiment '\(exp.name)': \(parent.directory)")
        let children = ChildRuns()
        do {
            let outcome = try study(s, base: base, parent: parent, store: store, children: children)
            try parent.end(.finished)
            print(outcome, parent: parent)
        } catch {
            children.failAll()
            try? parent.setTags(["fsml.failure": "\(error)"])
            try? parent.end(.failed)
            throw error
        }
    }

    struct Outcome {
        var summary: StudySummary
        var report: String
        var promoted: (run: RunRecord, alias: String)?
    }

    private func study(
        _ s: Settings, base: TrainingParams, parent: RunWriter, store: TrackingStore, children: ChildRuns
    ) throws -> Outcome {
        let started = monotonicNanos()
        var request = StoreExamples.Request(configPath: command.global.configPath)
        request.dataset = command.dataset
        request.offline = command.offline
        request.start = try command.start.map { try parseTimeOption($0, "--start") }
        request.end = try command.end.map { try parseTimeOption($0, "--end") }
        request.views = command.views
        request.segments = []
        let examples = try StoreExamples.load(request, buildAs: parent.id)
        let table = examples.table
        let gap = try command.gap.flatMap(DurationText.parse) ?? examples.registry.label?.within ?? 0
        let folds = try RollingOriginFolds(times: table.times, folds: s.cv, gap: gap)
        let data = folds.folds.map {
            FoldData(
                train: table.subset($0.train).labeledData,
                valid: table.subset($0.valid).labeledData)
        }
        for (i, f) in folds.folds.enumerated() {
            StandardError.line(
                "fold \(i + 1): \(Progress.count(f.train.count)) training rows before \(Timestamp.format(f.trainEnd)), \(Progress.count(f.valid.count)) validation rows from \(Timestamp.format(f.validStart))"
            )
        }

        var config = StudyConfig(space: s.space, base: base, metric: s.metric)
        config.sampler = s.sampler
        config.tpe = TPESampler(startupTrials: command.startupTrials)
        config.trials = s.trials
        config.timeoutSeconds = s.timeout.map { Double($0) / 1e6 }
        config.batch = command.batch
        config.seed = s.seed
        let cores = Parallel.defaultThreads
        config.parallel = min(command.parallel ?? cores, command.batch, s.trials ?? Int.max)
        config.threadsPerTrial = max(1, cores / config.parallel)
        if s.pruner != .none {
            config.halving = SuccessiveHalving(
                eta: command.eta,
                minRounds: command.minRounds
                    ?? SuccessiveHalving.defaultMinRounds(maxRounds: base.numIterations, eta: command.eta),
                maxRounds: base.numIterations)
            if s.pruner == .hyperband { config.brackets = config.rungs.count }
        }
        let metricName = "valid_\(TrackingNames.metricKey(s.metric.rawValue))"
        let settings: [(String, String)] =
            [
                (
                    "sampler",
                    s.sampler.rawValue
                        + (s.sampler == .tpe ? " (\(command.startupTrials) random startup trials, 24 candidates)" : "")
                ),
                (
                    "pruner",
                    config.halving.map {
                        "\(s.pruner.rawValue) (eta \($0.eta), rungs at \($0.rungs.map(String.init).joined(separator: ", ")) rounds\(config.brackets > 1 ? ", \(config.brackets) brackets" : ""))"
                    } ?? "none"
                ),
                ("trials", s.trials.map(String.init) ?? "until the timeout"),
                ("timeout", s.timeout.map(DurationText.format) ?? "none"), ("metric", metricName),
                ("direction", s.metric.higherIsBetter ? "maximize" : "minimize"), ("cv", "\(s.cv)"),
                ("gap", DurationText.format(gap)), ("seed", "\(s.seed)"), ("batch", "\(config.batch)"),
                ("parallel", "\(config.parallel) trials × \(config.threadsPerTrial) threads"),
                ("dataset", examples.datasetPath), ("rows", "\(table.rows)"),
                ("features", "\(table.featureNames.count)"),
            ]
        try parent.logParams(
            settings.map { ("tune.\($0.0)", $0.1) }
                + s.space.parameters.map { ("space.\($0.name)", $0.distribution.description) }
                + base.asDictionary)
        var runTags = ["fsml.dataset.path": examples.datasetPath, "fsml.tune.metric": metricName]
        if let m = examples.manifestPath { runTags["fsml.dataset.manifest_sha256"] = try SHA256.hex(ofFile: m) }
        try parent.setTags(runTags)

        var baseline: Double?
        if !command.noBaseline {
            var p = base
            p.numThreads = cores
            let e = try Study.evaluate(p, folds: data)
            baseline = e.value
            StandardError.line(
                "base parameters: \(metricName) \(Progress.fixed(e.value, 5)) (folds \(e.foldValues.map { Progress.fixed($0, 4) }.joined(separator: ", ")))"
            )
            try parent.logMetrics([("baseline_\(metricName)", e.value)], step: 0)
        }

        let best = BestSoFar(higherIsBetter: s.metric.higherIsBetter)
        var events = Study.Events()
        let total = s.trials
        events.trialStarted = { number, assignments in
            do {
                var tags = RunTags.standard()
                tags["mlflow.parentRunId"] = parent.id
                tags["fsml.tune.role"] = "trial"
                tags["fsml.tune.trial"] = "\(number)"
                let run = try RunWriter(
                    store: store, experiment: parent.experiment, name: "\(parent.name)-trial-\(number)", tags: tags)
                var p = (try? Study.parameters(base: base, assignments: assignments)) ?? base
                p.metrics = [s.metric]
                try run.logParams(p.asDictionary + [("trial", "\(number)")])
                children.add(number, run)
            } catch {
                StandardError.line("tune: trial \(number): could not start its run: \(error)")
            }
            StandardError.line(
                "tune: trial \(number)\(total.map { "/\($0)" } ?? "") started: \(assignments.map { "\($0.name)=\($0.value)" }.joined(separator: " "))"
            )
        }
        events.rungFinished = { number, rounds, value in
            try? children.get(number)?.logMetrics([("rung_\(metricName)", value)], step: rounds, summarize: false)
        }
        events.trialEnded = { t in
            let b = best.update(t)
            StandardError.line(
                "tune: trial \(t.number) \(t.pruned ? "PRUNED at \(t.rungValues.last?.rounds ?? 0) rounds" : "COMPLETE"): \(metricName) \(Progress.fixed(t.value, 5)) in \(Progress.fixed(t.seconds, 1)) s (best \(b.map { "\(Progress.fixed($0.value, 5)) at trial \($0.number)" } ?? "none yet"))"
            )
            try? parent.logMetrics([("trial_\(metricName)", t.value)], step: t.number, summarize: false)
            if let b { try? parent.logMetrics([("best_\(metricName)", b.value)], step: t.number, summarize: false) }
            guard let run = children.get(t.number) else { return }
            var metrics: [(String, Double)] = [("trial_seconds", t.seconds)]
            for (i, v) in t.foldValues.enumerated() { metrics.append(("fold_\(i + 1)_\(metricName)", v)) }
            for (i, v) in t.foldBestIterations.enumerated() {
                metrics.append(("fold_\(i + 1)_best_iteration", Double(v)))
            }
            if !t.pruned {
                let mean = t.value
                let sd = (t.foldValues.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(t.foldValues.count))
                    .squareRoot()
                metrics += [(metricName, mean), ("\(metricName)_std", sd)]
            }
            try? run.logMetrics(metrics, step: 0)
            try? run.setTags([
                "fsml.tune.state": t.pruned ? "PRUNED" : "COMPLETE",
                "fsml.tune.rounds": "\(t.rungValues.last?.rounds ?? 0)",
            ])
            try? run.end(t.pruned ? .killed : .finished)
            children.remove(t.number)
        }
        let trials = try Study(config: config, folds: data, events: events).run()
        var summary = StudySummary(
            name: parent.name, metric: metricName, higherIsBetter: s.metric.higherIsBetter, settings: settings,
            space: s.space,
            folds: folds.folds.map {
                .init(
                    trainRows: $0.train.count, validRows: $0.valid.count, trainEnd: $0.trainEnd,
                    validStart: $0.validStart, validEnd: $0.validEnd)
            }, trials: trials, runIDs: children.ids, baseline: baseline,
            seconds: Double(monotonicNanos() - started) / 1e9)
        summary.featureNames = table.featureNames
        summary.labelColumn = examples.registry.label?.name ?? "label"
        summary.timeColumn = examples.registry.schema.timeFieldName
        guard let winner = summary.best else { throw CLIError("no trial completed: every value was NaN") }
        try parent.logParams(winner.assignments.map { ("best.\($0.name)", $0.value) })
        try parent.setTags(["fsml.tune.best_run": children.ids[winner.number] ?? ""])
        try parent.logMetrics(
            [
                ("best_\(metricName)", winner.value), ("best_trial", Double(winner.number)),
                ("trials_complete", Double(trials.count - summary.pruned)), ("trials_pruned", Double(summary.pruned)),
                ("study_seconds", summary.seconds),
            ] + (baseline.map { [("baseline_\(metricName)", $0)] } ?? []), step: 0)
        _ = try parent.writeArtifact(JSONText.render(summary.json()) + "\n", as: "study.json")
        var promoted: (RunRecord, String)?
        if let alias = command.promote {
            let run = try retrain(
                winner, base: base, table: table, examples: examples, parent: parent, store: store,
                metricName: metricName)
            try store.promote(run, alias: alias)
            StandardError.line("\(alias) → run \(run.id) (\(run.name))")
            promoted = (run, alias)
        }
        let report = try parent.writeArtifact(StudyReport.html(summary), as: "report.html")
        return Outcome(summary: summary, report: report, promoted: promoted)
    }

    /// The best parameters trained on every row, for the number of rounds early stopping kept on
    /// average over the folds, logged as a run of its own (a child of the study).
    private func retrain(
        _ winner: TrialResult, base: TrainingParams, table: DatasetTable, examples: StoreExamples,
        parent: RunWriter, store: TrackingStore, metricName: String
    ) throws -> RunRecord {
        var params = try Study.parameters(base: base, assignments: winner.assignments)
        let rounds = winner.foldBestIterations.reduce(0, +) / max(1, winner.foldBestIterations.count)
        params.numIterations = max(1, rounds)
        params.earlyStoppingRounds = 0
        params.numThreads = 0
        var tags = RunTags.standard()
        tags["mlflow.parentRunId"] = parent.id
        tags["fsml.tune.role"] = "best"
        tags["fsml.model.kind"] = "gbdt"
        tags["fsml.dataset.path"] = examples.datasetPath
        if let m = examples.manifestPath { tags["fsml.dataset.manifest_sha256"] = try SHA256.hex(ofFile: m) }
        for (f, h) in examples.featureHashes { tags["fsml.feature_hash.\(f)"] = h }
        let run = try RunWriter(store: store, experiment: parent.experiment, name: "\(parent.name)-best", tags: tags)
        do {
            StandardError.line(
                "retraining trial \(winner.number)'s parameters on all \(Progress.count(table.rows)) rows for \(params.numIterations) rounds: run \(run.id)"
            )
            try run.logParams(
                [("model", "gbdt")] + params.asDictionary
                    + [
                        ("dataset", examples.datasetPath), ("train_rows", "\(table.rows)"),
                        ("tune.trial", "\(winner.number)"),
                    ])
            let data = table.labeledData
            let fitted = try Fitting.fit(model: .gbdt, train: data, valid: nil, parameters: params)
            StandardError.line(fitted.summary)
            try ModelArtifact.save(fitted.model, to: run)
            if case .gbdt(let m) = fitted.model {
                _ = try run.writeArtifact(Fitting.importanceCSV(m), as: "feature_importance.csv")
            }
            if let m = examples.manifestPath { try run.logArtifact(from: m, as: "dataset.manifest.json") }
            try run.logMetrics(
                fitted.metricsTable.map { ("train_\(TrackingNames.metricKey($0.0))", $0.1) } + [
                    ("cv_\(metricName)", winner.value)
                ], step: 0)
            try run.end(.finished)
        } catch {
            try? run.end(.failed)
            throw error
        }
        return run.snapshot
    }

    private func print(_ o: Outcome, parent: RunWriter) {
        let s = o.summary
        let best = s.best!
        switch command.output.format {
        case .json:
            StandardOutput.write(
                JSONText.render(
                    .object([
                        ("run_id", .string(parent.id)), ("run_name", .string(parent.name)),
                        ("experiment", .string(parent.experiment.name)), ("report", .string(o.report)),
                        ("metric", .string(s.metric)), ("best_value", .number(best.value)),
                        ("best_trial", .int(best.number)),
                        ("best_params", .object(best.assignments.map { ($0.name, .string($0.value)) })),
                        ("best_run_id", s.runIDs[best.number].map { .string($0) } ?? .null),
                        ("baseline_value", s.baseline.flatMap { $0.isFinite ? .number($0) : nil } ?? .null),
                        ("trials", .int(s.trials.count)), ("pruned", .int(s.pruned)), ("seconds", .number(s.seconds)),
                        ("promoted_run_id", o.promoted.map { .string($0.run.id) } ?? .null),
                        ("trial_values", .array(s.trials.map { $0.value.isFinite ? .number($0.value) : .null })),
                    ])) + "\n")
        case .table:
            StandardOutput.write("study \(parent.id) (\(parent.name)) in experiment '\(parent.experiment.name)'\n")
            StandardOutput.write(StudyReport.headline(s) + "\n")
            var table = TextTable(["PARAMETER", "BEST"])
            for a in best.assignments { table.add([a.name, a.value]) }
            StandardOutput.write(table.render())
            if let p = o.promoted { StandardOutput.write("\(p.alias) → run \(p.run.id) (\(p.run.name))\n") }
            StandardOutput.write("report: \(o.report)\n")
        }
    }
}

/// The trials' open runs, written from the study's worker threads.
final class ChildRuns: @unchecked Sendable {
    private let lock = NSLockLite()
    private var open: [Int: RunWriter] = [:]
    private var all: [Int: String] = [:]

    func add(_ n: Int, _ run: RunWriter) { lock.withLock { (open[n], all[n]) = (run, run.id) } }
    func get(_ n: Int) -> RunWriter? { lock.withLock { open[n] } }
    func remove(_ n: Int) { _ = lock.withLock { open.removeValue(forKey: n) } }
    var ids: [Int: String] { lock.withLock { all } }

    func failAll() {
        for run in lock.withLock({ Array(open.values) }) { try? run.end(.failed) }
    }
}

/// The best complete trial so far, as trials end.
final class BestSoFar: @unchecked Sendable {
    private let lock = NSLockLite()
    private let higherIsBetter: Bool
    private var best: (number: Int, value: Double)?

    init(higherIsBetter: Bool) { self.higherIsBetter = higherIsBetter }

    func update(_ t: TrialResult) -> (number: Int, value: Double)? {
        lock.withLock {
            if !t.pruned && !t.value.isNaN {
                if let b = best {
                    let better = higherIsBetter ? t.value > b.value : t.value < b.value
                    if better || (t.value == b.value && t.number < b.number) { best = (t.number, t.value) }
                } else {
                    best = (t.number, t.value)
                }
            }
            return best
        }
    }
}
