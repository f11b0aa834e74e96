import ArgumentParser
import FsmlCore
import GBDT
import Workflows

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search training parameters (TPE or random, pruned by successive halving), tracked as a study.",
        discussion: """
            Declare the ranges with --space (name=kind(args) items: uniform(lo,hi), loguniform(lo,hi), \
            int(lo,hi), int(lo,hi,log), choice(a,b,...)) or in the `tune:` block of --space-file (a `space:` \
            mapping of the same items, and optionally trials, timeout, metric, cv, sampler, pruner, seed). \
            Each trial trains on --cv rolling-origin folds by time (validation blocks in time order; training \
            rows end a label horizon, --gap, before each block) and is judged by the mean of the folds' \
            --metric. The study is a parent run and each trial a child run (tag mlflow.parentRunId); pruned \
            trials end KILLED with fsml.tune.state PRUNED. Reproducible: trial i is proposed from the results \
            of trials 0...i-B (B = --batch) and pruned against the trials numbered before it, every draw \
            comes from --seed and i, and training results do not depend on threads; so a seed gives the same \
            trials and the same best at any --parallel. --timeout only decides how many of them run.
            """
    )

    @Option(help: "The experiment of the study (made when it does not exist).") var experiment: String
    @Option(help: "The study's run name (default: run-<id>).") var runName: String?
    @Option(
        name: .customLong("space"),
        help: ArgumentHelp(
            "Parameter ranges, e.g. 'learning_rate=loguniform(0.01,0.3) num_leaves=int(8,128)' (repeatable).",
            valueName: "ranges"))
    var spaces: [String] = []
    @Option(help: "A YAML file with a `tune:` block (its `space:` mapping and settings).") var spaceFile: String?
    @Option(help: "Trials to run (default 30, or as many as --timeout allows).") var trials: Int?
    @Option(help: "Start no trial after this long, e.g. 10m (trials running then finish).") var timeout: String?
    @Option(help: "tpe (Bayesian: Parzen estimators) or random (default tpe).") var sampler: SamplerKind?
    @Option(help: "Random trials before TPE starts modelling.") var startupTrials: Int = 10
    @Option(
        help: """
            none, halving (successive halving over boosting rounds) or hyperband (halving in brackets that \
            start at each rung, trials dealt to them in turn; default none).
            """) var pruner: PrunerKind?
    @Option(help: "Halving keeps the top 1/eta at each rung.") var eta: Int = 3
    @Option(help: "Rounds of the first rung (default: the full rounds / eta³, at least 10).") var minRounds: Int?
    @Option(help: "Folds of rolling-origin validation by time (default 3).") var cv: Int?
    @Option(help: "Training rows end this long before each validation block (default: the label's horizon).")
    var gap: String?
    @Option(help: "The objective: valid_auc, valid_logloss, valid_pr_auc, ... (default valid_auc).") var metric: String?
    @Option(help: "Seed of the proposals and of training (default 0).") var seed: UInt64?
    @Option(help: "Trials trained at once (default: the core count; each gets its share of the threads).")
    var parallel: Int?
    @Option(help: "Trial i is proposed knowing trials 0...i-B: at most B trials in flight.") var batch: Int = 4
    @Option(
        name: .customLong("param"),
        help: ArgumentHelp(
            "A fixed training parameter, key=value (repeatable; default num_iterations=500, early_stopping_rounds=30).",
            valueName: "key=value"))
    var params: [String] = []
    @Flag(help: "Skip measuring the base parameters on the same folds.") var noBaseline = false
    @Option(help: "Retrain the best parameters on all rows, log that run and point this alias at it.")
    var promote: String?
    @Option(help: "A point-in-time dataset from `fsml build` (.parquet) instead of building one.") var dataset: String?
    @Option(help: "Earliest example time of the dataset to build, ISO-8601 UTC.") var start: String?
    @Option(help: "End of the example times of the dataset to build (exclusive).") var end: String?
    @Option(help: "Train on the features of these feature views only (comma-separated).") var views: String?
    @Option(help: "The offline store directory (default: stores.offline in fsml.yaml).") var offline: String?
    @OptionGroup var tracking: TrackingOptions
    @OptionGroup var output: FormatOption
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if spaces.isEmpty == (spaceFile == nil) { throw ValidationError("give --space or --space-file (one of them)") }
        if let trials, trials < 1 { throw ValidationError("--trials must be at least 1") }
        if let cv, cv < 1 { throw ValidationError("--cv must be at least 1") }
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if eta < 2 { throw ValidationError("--eta must be at least 2") }
        if let minRounds, minRounds < 1 { throw ValidationError("--min-rounds must be at least 1") }
        if startupTrials < 0 { throw ValidationError("--startup-trials cannot be negative") }
        for (name, text) in [("--timeout", timeout), ("--gap", gap)] {
            if let text, DurationText.parse(text) == nil {
                throw ValidationError("\(name): '\(text)' is not a duration (use 90s, 10m, 1h)")
            }
        }
    }

    func run() throws {
        let settings = try TuningSettings.resolve(
            spaces: spaces, spaceFile: spaceFile, trials: trials, timeout: timeout, metric: metric, sampler: sampler,
            pruner: pruner, cv: cv, seed: seed)
        var parameters = TuningPipeline.defaultParameters(seed: settings.seed)
        try parameters.apply(params)
        var examples = StoreExamples.Request(configPath: global.configPath)
        examples.dataset = dataset
        examples.offline = offline
        examples.start = try start.map { try parseTimeOption($0, "--start") }
        examples.end = try end.map { try parseTimeOption($0, "--end") }
        examples.views = views
        var study = TuningPipeline(
            examples: examples, tracking: tracking.store, experiment: experiment, settings: settings,
            parameters: parameters)
        study.runName = runName
        (study.startupTrials, study.eta, study.minRounds) = (startupTrials, eta, minRounds)
        study.gap = gap.flatMap(DurationText.parse)
        (study.parallel, study.batch, study.baseline, study.promote) = (parallel, batch, !noBaseline, promote)
        TuneOutput.print(try study.run(), format: output.format)
    }
}

extension SamplerKind: ExpressibleByArgument {}
extension PrunerKind: ExpressibleByArgument {}
