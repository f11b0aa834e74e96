import FeatureCore
import FsmlCore
import GBDT
import Tracking

/// The model being served and what it needs: its predictor, its feature lookup, its version.
public final class LoadedModel: Sendable {
    public let runID: String
    public let runName: String
    /// The run's version as clients see it: `<run name>@<first 8 hex digits of the run id>`.
    public let version: String
    public let model: AnyModel
    public let lookup: FeatureLookup
    /// The key fields requests carry for this model.
    public let contract: ServingContract
    /// How a /predict body is read and answered for this model.
    let plan: PredictPlan
    let predictor: FlatPredictor?
    /// SHAP values for `"explain": true` (the code `fsml explain` runs).
    let explainer: ModelExplainer
    /// 1, or a multiclass model's classes: its answers carry every class's probability.
    public let classes: Int

    init(run: RunRecord, model: AnyModel, lookup: FeatureLookup) {
        runID = run.id
        runName = run.name
        version = "\(run.name)@\(run.id.prefix(8))"
        self.model = model
        self.lookup = lookup
        contract = ServingContract(registry: lookup.registry, features: lookup.features)
        plan = PredictPlan(contract: contract, lookup: lookup, version: version)
        if case .gbdt(let m) = model { predictor = FlatPredictor(m) } else { predictor = nil }
        explainer = ModelExplainer(model)
        classes = model.outputsPerRow
    }

    /// One score: a probability (binary), a value (regression), a ranking score; allocation-free
    /// for trees. For a multiclass model, the most likely class's probability (`probabilities`).
    public func score(_ row: [Float]) -> Double {
        if classes > 1 { return probabilities(row).max()! }
        if let predictor { return predictor.predict(row) }
        return model.predict(DenseMatrix(rows: 1, columns: row.count, values: row))[0]
    }

    /// Every class's probability, for a multiclass model (its softmax, as `fsml predict` gives),
    /// from the predictor made when the model was loaded.
    public func probabilities(_ row: [Float]) -> [Double] {
        guard let predictor else { return model.predict(DenseMatrix(rows: 1, columns: row.count, values: row)) }
        var p = [Double](repeating: 0, count: classes)
        row.withUnsafeBufferPointer { r in
            p.withUnsafeMutableBufferPointer { p in
                predictor.margins(r.baseAddress!, into: p.baseAddress!)
                MulticlassObjective.softmax(p)
            }
        }
        return p
    }
}

/// The run an experiment's alias points to, reloaded when the alias moves. Requests take
/// `current` once and use that model to the end, so a swap never fails a request in flight.
public final class ModelHandle: @unchecked Sendable {
    public let store: TrackingStore
    public let experiment: String
    public let alias: String
    let registry: FeatureRegistry
    private let lock = NSLockLite()
    private var loaded: LoadedModel

    public init(store: TrackingStore, experiment: String, alias: String, registry: FeatureRegistry) throws {
        self.store = store
        self.experiment = experiment
        self.alias = alias
        self.registry = registry
        loaded = try Self.load(store: store, experiment: experiment, alias: alias, registry: registry)
    }

    public var current: LoadedModel { lock.withLock { loaded } }

    /// Loads the alias's run when it is not the one served. Returns the new model, or nil when
    /// nothing changed. A broken new run is an error and the old model stays.
    @discardableResult
    public func refresh() throws -> LoadedModel? {
        let e = try store.experiment(experiment)
        guard let id = store.aliases(e)[alias] else {
            throw ServingError("experiment '\(experiment)' has no alias '\(alias)'")
        }
        if id == current.runID { return nil }
        let fresh = try Self.load(store: store, experiment: experiment, alias: alias, registry: registry)
        lock.withLock { loaded = fresh }
        return fresh
    }

    static func load(
        store: TrackingStore, experiment: String, alias: String, registry: FeatureRegistry
    ) throws
        -> LoadedModel
    {
        let e = try store.experiment(experiment)
        let run = try store.run(alias: alias, experiment: e)
        // Every objective is served: a probability, a value, a ranking score, or a multiclass
        // model's class probabilities.
        let model = try ModelArtifact.load(run)
        return LoadedModel(
            run: run, model: model, lookup: try FeatureLookup(registry: registry, modelFeatures: model.featureNames))
    }
}
