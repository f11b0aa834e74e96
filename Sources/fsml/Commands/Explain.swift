import ArgumentParser
import FsmlCore
import GBDT
import Tracking

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
        guard loaded.outputsPerRow == 1 else {
            throw CLIError("\(model): explanations of multiclass models (one output per class) are not supported yet")
        }
        let path = data.data!
        let input = try data.load(path)
        guard input.features.columns >= loaded.featureNames.count else {
            throw CLIError(
                "\(path) has \(input.features.columns) feature columns; the model needs \(loaded.featureNames.count)")
        }
        let started = monotonicNanos()
        let explainer = ModelExplainer(loaded)
        let shap = explainer.contributions(input.features)
        let seconds = Double(monotonicNanos() - started) / 1e9
        var what = "\(Progress.count(shap.rows)) rows"
        if case .gbdt(let m) = loaded { what += " × \(m.trees.count) trees" }
        StandardError.line("explain: \(what) in \(Progress.fixed(seconds, 3)) s")
        if let out { try ContributionsFile.write(shap, to: out) }
        let curves = try partialDependence(loaded, input.features)
        if let report {
            try FileSystem.createDirectory(report)
            var page = ExplainReport(
                title: "Explanation of \(model)", subtitle: "model \(model) · data \(path)", shap: shap,
                data: input.features)
            if case .trees(let trees) = explainer {
                // Interactions cost a walk per feature and row: an even sample of 500 rows.
                let step = max(1, (shap.rows + 499) / 500)
                let rows = Array(stride(from: 0, to: shap.rows, by: step))
                page.interactions = trees.interactionImportance(input.features, rows: rows)
                page.interactionRows = rows.count
            }
            page.partialDependence = curves
            try FileSystem.writeAtomically(page.html(), to: report + "/explain.html")
            // What `fsml reports` lists the explanation by, in the folder's index.
            let summary: JSONValue = .object([
                ("model", .string(model)), ("data", .string(path)), ("rows", .int(shap.rows)),
                ("report", .string("explain.html")),
                (
                    "importance",
                    .array(
                        shap.importance().map {
                            .object([
                                ("feature", .string(shap.featureNames[$0.feature])),
                                ("mean_abs_shap", .number($0.meanAbsolute)),
                            ])
                        })
                ),
            ])
            try FileSystem.writeAtomically(JSONText.render(summary) + "\n", to: report + "/explain.json")
        }
        let ranked = shap.importance()
        let shown = top == 0 ? ranked[...] : ranked.prefix(top)
        if output.format == .json {
            let rows: [JSONValue] = shown.map {
                .object([
                    ("feature", .string(shap.featureNames[$0.feature])), ("mean_abs_shap", .number($0.meanAbsolute)),
                ])
            }
            let bias: JSONValue = shap.rows > 0 ? .number(shap.values[shap.width - 1]) : .null
            StandardOutput.write(
                JSONText.render(
                    .object([
                        ("rows", .int(shap.rows)), ("expected_value", bias), ("seconds", .number(seconds)),
                        ("importance", .array(rows)),
                        ("partial_dependence", .array(curves.map { $0.json() })),
                    ])) + "\n")
        } else {
            var table = TextTable(["FEATURE", "MEAN |SHAP|"], rightAligned: [1])
            for r in shown { table.add([shap.featureNames[r.feature], Progress.fixed(r.meanAbsolute, 6)]) }
            StandardOutput.write(table.render())
        }
    }

    /// The curves of `--pdp`: ICE on up to 500 rows at an even stride, their mean, and the traversal.
    func partialDependence(_ model: AnyModel, _ features: DenseMatrix) throws -> [PartialDependenceCurve] {
        guard let pdp else { return [] }
        guard case .gbdt(let trees) = model else { throw CLIError("--pdp needs a tree model") }
        let predictor = FlatPredictor(trees)
        let step = max(1, (features.rows + 499) / 500)
        let rows = Array(stride(from: 0, to: features.rows, by: step))
        return try pdp.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let f = trees.featureNames.firstIndex(of: name) else {
                throw CLIError("--pdp: the model has no feature '\(name)'")
            }
            let grid = PartialDependence.grid((0..<features.rows).map { features[$0, f] })
            let ice = PartialDependence.individual(predictor, data: features, feature: f, grid: grid, rows: rows)
            return PartialDependenceCurve(
                feature: name, grid: grid, average: PartialDependence.average(ice), ice: ice,
                recursion: PartialDependence.recursion(trees, feature: f, grid: grid))
        }
    }
}
