import FsmlCore
import GBDT
import PointInTime
import Tracking

extension TuningPipeline {
    /// The study in its run: folds, the baseline, the trials (each logged as a child run as it
    /// starts, reaches a rung and ends), the summary, the optional retraining, the report.
    func study(base: TrainingParams, parent: RunWriter, trials children: TrialRuns) throws -> Outcome {
        let (s, store) = (settings, tracking)
        let started = monotonicNanos()
        var request = examples
        request.segments = []
        let examples = try StoreExamples.load(request, buildAs: parent.id)
        let table = examples.table
        let gap = self.gap ?? examples.registry.label?.within ?? 0
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
        config.tpe = TPESampler(startupTrials: startupTrials)
        config.trials = s.trials
        config.timeoutSeconds = s.timeout.map { Double($0) / 1e6 }
        config.batch = batch
        config.seed = s.seed
        let cores = Parallel.defaultThreads
        config.parallel = min(parallel ?? cores, batch, s.trials ?? Int.max)
        config.threadsPerTrial = max(1, cores / config.parallel)
        if s.pruner != .none {
            config.halving = SuccessiveHalving(
                eta: eta,
                minRounds: minRounds
                    ?? SuccessiveHalving.defaultMinRounds(maxRounds: base.numIterations, eta: eta),
                maxRounds: base.numIterations)
            if s.pruner == .hyperband { config.brackets = config.rungs.count }
        }
        let metricName = "valid_\(TrackingNames.metricKey(s.metric.rawValue))"
        let settings: [(String, String)] =
            [
                (
                    "sampler",
                    s.sampler.rawValue
                        + (s.sampler == .tpe ? " (\(startupTrials) random startup trials, 24 candidates)" : "")
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
        if self.baseline {
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
        guard let winner = summary.best else { throw WorkflowError("no trial completed: every value was NaN") }
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
        if let alias = promote {
            let run = try retrain(
                winner, base: base, table: table, examples: examples, parent: parent, store: store,
                metricName: metricName)
            try store.promote(run, alias: alias)
            StandardError.line("\(alias) → run \(run.id) (\(run.name))")
            promoted = (run, alias)
        }
        let report = try parent.writeArtifact(StudyReport.html(summary), as: "report.html")
        return Outcome(study: parent, summary: summary, report: report, promoted: promoted)
    }
}
