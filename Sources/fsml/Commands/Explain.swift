import ArgumentParser
import FsmlCore
import GBDT
import Tracking
import Workflows

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain a model's predictions with exact SHAP values (TreeSHAP for trees).",
        discussion: """
            Each row's contributions are exact path-dependent SHAP values (TreeSHAP, as XGBoost's pred_contribs \
            computes them; the logistic baseline's are its weights times the centred values): one per feature \
            plus the bias (the expected margin), adding up to the row's margin (log-odds for binary:logistic). \
            --out writes them, one row per data row, a column per feature and `bias` last: CSV, or Parquet \
            when the name ends in .parquet. The global importance, the mean |SHAP| of each feature, is \
            printed largest first; --report writes an HTML page with its chart, dependence plots of the top \
            features and, for trees, the strongest interactions (SHAP interaction values over 500 sampled rows).
            """
    )

    @Option(help: "The model file (fsml GBDT, fsml logistic or XGBoost JSON).") var model: String
    @OptionGroup var data: DataFileOptions
    @Option(help: "Where to write each row's contributions (CSV, or Parquet for .parquet).") var out: String?
    @Option(help: "Features in the importance table (0: all).") var top: Int = 20
    @Option(help: "A directory to write the HTML report (explain.html) in.") var report: String?
    @Option(
        help: """
            Features to give partial dependence and ICE curves (comma-separated names): on a grid of the \
            feature's values, the mean prediction with every row's feature set to each value, and, for trees, \
            the weighted tree traversal (margin units). In the report and the JSON output.
            """) var pdp: String?
    @OptionGroup var output: FormatOption

    func validate() throws {
        if data.data == nil { throw ValidationError("--data is required") }
        if top < 0 { throw ValidationError("--top must be 0 or more") }
    }

    func run() throws {
        let loaded = try AnyModel.load(path: model)
        let path = data.data!
        let input = try data.load(path)
        let pdpNames = pdp.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        let explanation = try ModelExplanation(
            model: loaded, modelPath: model, features: input.features, dataPath: path, pdp: pdpNames)
        let shap = explanation.shap
        if let out { try ContributionsFile.write(shap, to: out) }
        if let report {
            try explanation.writeReport(
                to: report, model: loaded, modelPath: model, features: input.features, dataPath: path)
        }
        let ranked = shap.importance()
        let shown = top == 0 ? ranked[...] : ranked.prefix(top)
        if output.format == .json {
            let bias: JSONValue = shap.rows > 0 ? .number(shap.values[shap.width - 1]) : .null
            StandardOutput.write(
                JSONText.render(
                    .object([
                        ("rows", .int(shap.rows)), ("expected_value", bias), ("seconds", .number(explanation.seconds)),
                        ("importance", explanation.importanceJSON(shown)),
                        ("partial_dependence", .array(explanation.curves.map { $0.json() })),
                    ])) + "\n")
        } else {
            var table = TextTable(["FEATURE", "MEAN |SHAP|"], rightAligned: [1])
            for r in shown { table.add([shap.featureNames[r.feature], Progress.fixed(r.meanAbsolute, 6)]) }
            StandardOutput.write(table.render())
        }
    }
}
