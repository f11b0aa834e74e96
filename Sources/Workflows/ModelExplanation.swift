import FsmlCore
import GBDT
import Tracking

/// A model's predictions on a data set explained: exact SHAP values per row (TreeSHAP for trees),
/// partial dependence and ICE curves of chosen features, and optionally the HTML report with the
/// interactions of an even sample of rows. What `fsml explain` runs.
public struct ModelExplanation {
    public let shap: SHAPValues
    public let curves: [PartialDependenceCurve]
    /// Seconds the contributions took.
    public let seconds: Double

    /// Explains `model` (loaded from `modelPath`, which reports name) on `features` (read from
    /// `dataPath`), with curves for the features named in `pdp`.
    public init(model: AnyModel, modelPath: String, features: DenseMatrix, dataPath: String, pdp: [String]) throws {
        guard model.outputsPerRow == 1 else {
            throw WorkflowError(
                "\(modelPath): explanations of multiclass models (one output per class) are not supported yet")
        }
        guard features.columns >= model.featureNames.count else {
            throw WorkflowError(
                "\(dataPath) has \(features.columns) feature columns; the model needs \(model.featureNames.count)")
        }
        let started = monotonicNanos()
        shap = ModelExplainer(model).contributions(features)
        seconds = Double(monotonicNanos() - started) / 1e9
        var what = "\(Progress.count(shap.rows)) rows"
        if case .gbdt(let m) = model { what += " × \(m.trees.count) trees" }
        StandardError.line("explain: \(what) in \(Progress.fixed(seconds, 3)) s")
        curves = try Self.partialDependence(model, features, names: pdp)
    }

    /// The curves of `names`: ICE on up to 500 rows at an even stride, their mean, and the
    /// weighted tree traversal.
    static func partialDependence(
        _ model: AnyModel, _ features: DenseMatrix, names: [String]
    ) throws
        -> [PartialDependenceCurve]
    {
        guard !names.isEmpty else { return [] }
        guard case .gbdt(let trees) = model else { throw WorkflowError("--pdp needs a tree model") }
        let predictor = FlatPredictor(trees)
        let step = max(1, (features.rows + 499) / 500)
        let rows = Array(stride(from: 0, to: features.rows, by: step))
        return try names.map { name in
            guard let f = trees.featureNames.firstIndex(of: name) else {
                throw WorkflowError("--pdp: the model has no feature '\(name)'")
            }
            let grid = PartialDependence.grid((0..<features.rows).map { features[$0, f] })
            let ice = PartialDependence.individual(predictor, data: features, feature: f, grid: grid, rows: rows)
            return PartialDependenceCurve(
                feature: name, grid: grid, average: PartialDependence.average(ice), ice: ice,
                recursion: PartialDependence.recursion(trees, feature: f, grid: grid))
        }
    }

    /// Writes explain.html and explain.json (what `fsml reports` lists it by) into `directory`.
    public func writeReport(
        to directory: String, model: AnyModel, modelPath: String, features: DenseMatrix, dataPath: String
    ) throws {
        try FileSystem.createDirectory(directory)
        var page = ExplainReport(
            title: "Explanation of \(modelPath)", subtitle: "model \(modelPath) · data \(dataPath)", shap: shap,
            data: features)
        if case .trees(let trees) = ModelExplainer(model) {
            // Interactions cost a walk per feature and row: an even sample of 500 rows.
            let step = max(1, (shap.rows + 499) / 500)
            let rows = Array(stride(from: 0, to: shap.rows, by: step))
            page.interactions = trees.interactionImportance(features, rows: rows)
            page.interactionRows = rows.count
        }
        page.partialDependence = curves
        try FileSystem.writeAtomically(page.html(), to: directory + "/explain.html")
        let summary: JSONValue = .object([
            ("model", .string(modelPath)), ("data", .string(dataPath)), ("rows", .int(shap.rows)),
            ("report", .string("explain.html")), ("importance", importanceJSON(shap.importance()[...])),
        ])
        try FileSystem.writeAtomically(JSONText.render(summary) + "\n", to: directory + "/explain.json")
    }

    /// Features by mean |SHAP|, as JSON.
    public func importanceJSON(_ ranked: ArraySlice<(feature: Int, meanAbsolute: Double)>) -> JSONValue {
        .array(
            ranked.map {
                .object([
                    ("feature", .string(shap.featureNames[$0.feature])), ("mean_abs_shap", .number($0.meanAbsolute)),
                ])
            })
    }
}
