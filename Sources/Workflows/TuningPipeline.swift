import FsmlCore
import GBDT
import PointInTime
import Tracking

/// A tracked study: examples → rolling-origin folds → trials, each a child run of the study's run →
/// the best logged, and optionally retrained on every row and promoted. What `fsml tune` runs.
public struct TuningPipeline {
    /// Where the examples come from: a dataset, or a build from the offline store.
    public var examples: StoreExamples.Request
    public var tracking: TrackingStore
    public var experiment: String
    public var settings: TuningSettings
    /// The fixed training parameters each trial starts from (see `defaultParameters(seed:)`).
    public var parameters: TrainingParams
    /// The study's run name (default: run-<id>).
    public var runName: String?
    /// Random trials before TPE starts modelling.
    public var startupTrials = 10
    /// Halving keeps the top 1/eta at each rung.
    public var eta = 3
    /// Rounds of the first rung (default: the full rounds / eta³, at least 10).
    public var minRounds: Int?
    /// Training rows end this long before each validation block (default: the label's horizon).
    public var gap: Micros?
    /// Trials trained at once (default: the core count; each gets its share of the threads).
    public var parallel: Int?
    /// Trial i is proposed knowing trials 0...i-batch.
    public var batch = 4
    /// Measure the base parameters on the same folds first.
    public var baseline = true
    /// Retrain the best parameters on all rows, log that run and point this alias at it.
    public var promote: String?

    public init(
        examples: StoreExamples.Request, tracking: TrackingStore, experiment: String, settings: TuningSettings,
        parameters: TrainingParams
    ) {
        self.examples = examples
        self.tracking = tracking
        self.experiment = experiment
        self.settings = settings
        self.parameters = parameters
    }

    /// LightGBM's defaults with room for slow learning rates: 500 rounds, early stopping after 30
    /// in every fold, the study's seed.
    public static func defaultParameters(seed: UInt64) -> TrainingParams {
        var base = TrainingParams()
        base.numIterations = 500
        base.earlyStoppingRounds = 30
        base.seed = seed
        return base
    }

    /// What a finished study holds.
    public struct Outcome {
        public let study: RunWriter
        public let summary: StudySummary
        /// The study's HTML report.
        public let report: String
        public let promoted: (run: RunRecord, alias: String)?
    }

    /// Runs the study in a new run of the experiment (made when absent). A failure ends the study
    /// and its open trials FAILED, and is rethrown.
    public func run() throws -> Outcome {
        if let dataset = examples.dataset {
            let m = DatasetManifest.path(forDataset: dataset)
            if FileSystem.exists(m) { try DatasetManifest.verify(dataset: dataset, manifest: m) }
        }
        var base = parameters
        base.metrics = [settings.metric]
        // Every value of the space must be a parameter the trainer takes.
        for p in settings.space.parameters {
            let probes: [Double]
            switch p.distribution {
            case .uniform(let lo, let hi), .logUniform(let lo, let hi): probes = [lo, hi]
            case .int(let lo, let hi, _): probes = [Double(lo), Double(hi)]
            case .choice(let values): probes = values.indices.map(Double.init)
            }
            for x in probes {
                do { _ = try Study.parameters(base: base, assignments: [(p.name, p.distribution.valueText(x))]) } catch
                {
                    throw WorkflowError("--space \(p.name): \(error)")
                }
            }
        }
        let exp = try tracking.experimentCreatingIfNeeded(experiment)
        var tags = RunTags.standard()
        tags["fsml.tune.role"] = "study"
        let parent = try RunWriter(store: tracking, experiment: exp, name: runName, tags: tags)
        StandardError.line("study \(parent.id) (\(parent.name)) in experiment '\(exp.name)': \(parent.directory)")
        let trials = TrialRuns()
        do {
            let outcome = try study(base: base, parent: parent, trials: trials)
            try parent.end(.finished)
            return outcome
        } catch {
            trials.failAll()
            try? parent.setTags(["fsml.failure": "\(error)"])
            try? parent.end(.failed)
            throw error
        }
    }
}
