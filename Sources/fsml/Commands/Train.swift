import ArgumentParser
import FsmlCore
import GBDT

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a gradient-boosted tree model (or the logistic baseline) on a data file.",
        discussion: """
            Parameters use LightGBM's names (num_leaves, learning_rate, num_iterations, min_data_in_leaf, \
            lambda_l2, feature_fraction, bagging_fraction, bagging_freq, early_stopping_rounds, max_bin, seed...) \
            and accept XGBoost's common aliases (eta, max_leaves, subsample, colsample_bytree, reg_lambda...). \
            Early stopping watches the first metric on --valid.
            """
    )

    @OptionGroup var data: DataFileOptions
    @Option(help: "Validation data, in the same format (for early stopping and validation metrics).")
    var valid: String?
    @Option(help: "gbdt or logistic.") var model: ModelKind = .gbdt
    @Option(
        name: .customLong("param"),
        help: ArgumentHelp("A training parameter, key=value (repeatable).", valueName: "key=value"))
    var params: [String] = []
    @Option(help: "Where to write the model.") var out: String
    @Option(help: "Also write feature importance (split count and gain) as CSV.") var importance: String?
    @OptionGroup var output: FormatOption

    enum ModelKind: String, ExpressibleByArgument, CaseIterable { case gbdt, logistic }

    func run() throws {
        var parameters = TrainingParams()
        try parameters.apply(params)
        let train = try data.load(data.data)
        let validation = try valid.map { try data.load($0) }
        StandardError.line(
            "train: \(Progress.count(train.rows)) rows × \(train.features.columns) features"
                + (validation.map { ", valid: \(Progress.count($0.rows)) rows" } ?? ""))
        let reporter = IterationReporter(total: model == .gbdt ? parameters.numIterations : parameters.maxIterations)
        let final: [(String, Double, Double?)]
        var timings: [(String, JSONValue)] = []
        switch model {
        case .gbdt:
            let result = try Booster.train(train, valid: validation, params: parameters) { reporter.report($0) }
            reporter.finish()
            try result.model.save(to: out)
            let predictor = FlatPredictor(result.model)
            final = metricsTable(
                parameters.effectiveMetrics, train: train, valid: validation,
                trainPredictions: result.trainPredictions, validPredictions: result.validPredictions
            ) { predictor.predict($0) }
            StandardError.line(
                "train: \(result.model.trees.count) trees (best iteration \(result.bestIteration)); binning \(Progress.fixed(result.binningSeconds, 2)) s, training \(Progress.fixed(result.trainingSeconds, 2)) s; wrote \(out)"
            )
            if let importance { try writeImportance(result.model, to: importance) }
            timings = [
                ("binning_seconds", .number(result.binningSeconds)),
                ("training_seconds", .number(result.trainingSeconds)),
                ("trees", .int(result.model.trees.count)), ("best_iteration", .int(result.bestIteration)),
            ]
        case .logistic:
            let lambda =
                params.contains { $0.hasPrefix("lambda_l2=") || $0.hasPrefix("reg_lambda=") || $0.hasPrefix("lambda=") }
                ? parameters.lambdaL2 : 1
            let result = try LogisticRegression.train(
                train, valid: validation, lambda: lambda, maxIterations: parameters.maxIterations
            ) { reporter.report($0) }
            reporter.finish()
            try result.model.save(to: out)
            final = metricsTable([.logloss, .auc, .prAUC, .accuracy], train: train, valid: validation) {
                result.model.predict($0)
            }
            StandardError.line(
                "train: logistic regression, \(result.iterations) Newton steps, \(Progress.fixed(result.trainingSeconds, 2)) s; wrote \(out)"
            )
            timings = [("training_seconds", .number(result.trainingSeconds)), ("iterations", .int(result.iterations))]
        }
        MetricsOutput.print(final, format: output.format, extra: timings)
    }

    private func metricsTable(
        _ metrics: [MetricKind], train: LabeledData, valid: LabeledData?, trainPredictions: [Double]? = nil,
        validPredictions: [Double]? = nil, predict: (DenseMatrix) -> [Double]
    ) -> [(String, Double, Double?)] {
        let p = trainPredictions ?? predict(train.features)
        let q = validPredictions ?? valid.map { predict($0.features) }
        let onTrain = Metrics.evaluate(metrics, predictions: p, labels: train.labels)
        let onValid = q.map { Metrics.evaluate(metrics, predictions: $0, labels: valid!.labels) }
        return metrics.indices.map { (metrics[$0].rawValue, onTrain[$0].value, onValid?[$0].value) }
    }

    private func writeImportance(_ model: GBDTModel, to path: String) throws {
        let split = model.featureImportance(.split)
        let gain = model.featureImportance(.gain)
        var text = "feature,split,gain\n"
        for i in model.featureNames.indices.sorted(by: { gain[$0] > gain[$1] }) {
            text += "\(model.featureNames[i]),\(Int(split[i])),\(gain[i])\n"
        }
        try FileSystem.writeAtomically(text, to: path)
    }
}

/// The data-file options `train` and `predict` share.
struct DataFileOptions: ParsableArguments {
    @Option(help: "The data file (CSV, TSV or LibSVM; .gz is read too).") var data: String
    @Option(help: "csv, tsv or libsvm (default: from the file name).") var dataFormat: DataFormat?
    @Option(help: "The label column: an index from 0, a header name, or none.") var labelColumn: String = "0"
    @Option(help: "Whether the first line is a header: auto, yes or no.") var header: DelimitedOptions.Header = .auto

    func load(_ path: String) throws -> LabeledData {
        try DataLoader.load(
            path: path, format: dataFormat ?? DataFormat.guess(path: path), labelColumn: labelColumn, header: header)
    }
}

extension DataFormat: ExpressibleByArgument {}
extension DelimitedOptions.Header: ExpressibleByArgument {}

/// Per-iteration progress: a rewritten line on a terminal, a log line every 10 iterations otherwise.
final class IterationReporter {
    private let progress: Progress
    private let total: Int
    private var last: IterationRecord?
    private let isTerminal = StandardError.isTerminal

    init(total: Int) {
        self.total = total
        progress = Progress("iteration", total: total, logInterval: 1e9)
    }

    func report(_ r: IterationRecord) {
        last = r
        if isTerminal {
            progress.update(r.iteration, detail: Self.describe(r))
        } else if r.iteration == 1 || r.iteration % 10 == 0 {
            StandardError.line("iteration \(r.iteration)/\(total): \(Self.describe(r))")
        }
    }

    func finish() {
        guard let last else { return }
        if isTerminal {
            progress.finish(last.iteration, detail: Self.describe(last))
        } else if last.iteration % 10 != 0 {
            StandardError.line("iteration \(last.iteration)/\(total): \(Self.describe(last))")
        }
    }

    static func describe(_ r: IterationRecord) -> String {
        var text =
            "train " + r.train.map { "\($0.metric.rawValue) \(Progress.fixed($0.value, 5))" }.joined(separator: " ")
        if !r.valid.isEmpty {
            text +=
                " | valid "
                + r.valid.map { "\($0.metric.rawValue) \(Progress.fixed($0.value, 5))" }.joined(separator: " ")
        }
        return text
    }
}

enum MetricsOutput {
    static func print(_ rows: [(String, Double, Double?)], format: OutputFormat, extra: [(String, JSONValue)] = []) {
        switch format {
        case .json:
            let pairs: [(String, JSONValue)] = rows.map { r in
                (r.0, .object([("train", .number(r.1))] + (r.2.map { [("valid", JSONValue.number($0))] } ?? [])))
            }
            StandardOutput.write(JSONText.render(.object([("metrics", .object(pairs))] + extra)) + "\n")
        case .table:
            let hasValid = rows.contains { $0.2 != nil }
            var table = TextTable(
                hasValid ? ["METRIC", "TRAIN", "VALID"] : ["METRIC", "TRAIN"], rightAligned: [1, 2])
            for r in rows {
                table.add([r.0, Progress.fixed(r.1, 6)] + (hasValid ? [r.2.map { Progress.fixed($0, 6) } ?? "-"] : []))
            }
            StandardOutput.write(table.render())
        }
    }
}
