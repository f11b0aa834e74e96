import GBDT
import Tracking

/// A trained model that scores feature vectors: a model file, or the run an alias points to in an
/// experiment (checked against the run's checksum), as `fsml serve` loads it.
public struct Scorer: Sendable {
    /// The model as loaded: trees, a logistic baseline, or an XGBoost JSON model.
    public let model: AnyModel
    /// The trees flattened once, not per call.
    private let flat: FlatPredictor?

    /// A model file written by `fsml train` (model.json in a run's artifacts), or an XGBoost JSON model.
    public init(path: String) throws { self.init(model: try AnyModel.load(path: path)) }

    /// A model already in memory, such as one a ``FeatureProject`` build was just trained on.
    public init(model: AnyModel) {
        self.model = model
        if case .gbdt(let m) = model { flat = FlatPredictor(m) } else { flat = nil }
    }

    /// The model of the run that `alias` points to in `experiment`, in the experiments folder
    /// `trackingDirectory`.
    public init(trackingDirectory: String, experiment: String, alias: String = "production") throws {
        let store = TrackingStore(root: trackingDirectory)
        self.init(
            model: try ModelArtifact.load(try store.run(alias: alias, experiment: try store.experiment(experiment))))
    }

    /// The features the model reads, in its column order.
    public var featureNames: [String] { model.featureNames }

    /// The model's score for a vector: a binary model's probability, a regression model's value,
    /// a ranking model's score, a multiclass model's largest probability. The vector's features
    /// are taken by name; one the vector lacks is missing.
    public func score(_ vector: FeatureVector) -> Double { scores(vector).max() ?? .nan }

    /// Every output of the model for a vector: one, or a multiclass model's probability per class.
    public func scores(_ vector: FeatureVector) -> [Double] {
        let row = featureNames.map { vector[$0].map(Float.init) ?? .nan }
        if let flat, model.outputsPerRow == 1 { return [flat.predict(row)] }
        return model.predict(DenseMatrix(rows: 1, columns: row.count, values: row), threads: 1)
    }
}
