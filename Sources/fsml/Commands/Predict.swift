import ArgumentParser
import FsmlCore
import GBDT

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a data file with a model (fsml GBDT, fsml logistic, or XGBoost JSON).",
        discussion:
            "Predictions go to --out, one per line (a multiclass model's class probabilities tab-separated on the line), or to stdout. When the data has labels, metrics are printed too (to stdout with --out, else to stderr)."
    )

    @Option(help: "The model file.") var model: String
    @OptionGroup var data: DataFileOptions
    @Option(help: "Where to write predictions (one row per line).") var out: String?
    @OptionGroup var output: FormatOption

    func run() throws {
        let loaded = try AnyModel.load(path: model)
        guard let path = data.data else { throw ValidationError("--data is required") }
        var input = try data.load(path)
        // A LibSVM file's columns end at its highest index, which may be below the model's.
        if data.format(of: path) == .libsvm { input = input.widened(toColumns: loaded.featureNames.count) }
        guard input.features.columns >= loaded.featureNames.count else {
            throw CLIError(
                "\(path) has \(input.features.columns) feature columns; the model needs \(loaded.featureNames.count)"
            )
        }
        let predictions = loaded.predict(input.features)
        var text = ""
        text.reserveCapacity(predictions.count * 20)
        let perRow = loaded.outputsPerRow
        for (i, p) in predictions.enumerated() { text += "\(p)" + ((i + 1) % perRow == 0 ? "\n" : "\t") }
        if let out {
            try FileSystem.writeAtomically(text, to: out)
        } else {
            StandardOutput.write(text)
        }
        guard !input.labels.contains(where: { $0.isNaN }) else { return }
        let metrics = loaded.objective.defaultMetrics
        // The Huber threshold or quantile the model was trained with.
        var alpha = 0.9
        if case .gbdt(let m) = loaded, let a = m.parameters["alpha"].flatMap(Double.init) { alpha = a }
        let rows = metrics.map {
            (
                $0.rawValue,
                $0.evaluate(
                    predictions: predictions, labels: input.labels, weights: input.weights, alpha: alpha,
                    groups: input.groupOffsets)
            )
        }
        if out != nil {
            if output.format == .json {
                StandardOutput.write(JSONText.render(.object(rows.map { ($0.0, .number($0.1)) })) + "\n")
            } else {
                var table = TextTable(["METRIC", "VALUE"], rightAligned: [1])
                for r in rows { table.add([r.0, Progress.fixed(r.1, 6)]) }
                StandardOutput.write(table.render())
            }
        } else {
            StandardError.line(rows.map { "\($0.0) \(Progress.fixed($0.1, 6))" }.joined(separator: ", "))
        }
    }
}
