import ArgumentParser
import FsmlCore
import GBDT
import Tracking

struct Model: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect, export and import models.",
        subcommands: [
            ModelInfo.self, ModelExportXGBoost.self, ModelImportXGBoost.self, ModelExportLightGBM.self,
            ModelImportLightGBM.self, ModelExportONNX.self,
        ]
    )
}

struct ModelInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Trees, leaves and feature importance of a model.")

    @Argument(help: "The model file.") var model: String
    @OptionGroup var output: FormatOption

    func run() throws {
        guard case .gbdt(let m) = try AnyModel.load(path: model) else {
            throw CLIError("\(model) is a logistic model; info shows tree models")
        }
        let split = m.featureImportance(.split)
        let gain = m.featureImportance(.gain)
        let order = m.featureNames.indices.sorted { gain[$0] > gain[$1] }
        switch output.format {
        case .json:
            let items: [JSONValue] = order.map { i in
                .object([
                    ("feature", .string(m.featureNames[i])), ("split", .int(Int(split[i]))), ("gain", .number(gain[i])),
                ])
            }
            StandardOutput.write(
                JSONText.render(
                    .object([
                        ("objective", .string(m.objective.rawValue)), ("num_class", .int(m.numClass)),
                        ("trees", .int(m.trees.count)),
                        ("leaves", .int(m.trees.reduce(0) { $0 + $1.leaves })), ("init_score", .number(m.initScore)),
                        ("trained_by", .string(m.trainedBy)),
                        ("calibration", m.calibration.map { .string($0.method.rawValue) } ?? .null),
                        ("importance", .array(items)),
                    ])) + "\n")
        case .table:
            StandardOutput.write(
                "\(model): \(m.objective.rawValue)\(m.numClass > 1 ? " (\(m.numClass) classes)" : ""), \(m.trees.count) trees, \(m.trees.reduce(0) { $0 + $1.leaves }) leaves, \(m.featureNames.count) features, trained by \(m.trainedBy)\(m.calibration.map { ", \($0.method.rawValue) calibration" } ?? "")\n\n"
            )
            var table = TextTable(["FEATURE", "SPLITS", "GAIN"], rightAligned: [1, 2])
            for i in order { table.add([m.featureNames[i], "\(Int(split[i]))", Progress.fixed(gain[i], 2)]) }
            StandardOutput.write(table.render())
        }
    }
}

struct ModelExportXGBoost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-xgboost",
        abstract: "Write a model in XGBoost's JSON format (xgboost.Booster(model_file=...) loads it).")

    @Argument(help: "The fsml model file.") var model: String
    @Argument(help: "The XGBoost JSON file to write.") var out: String

    func run() throws {
        let m = try ModelExport.treeModel(model, format: "XGBoost")
        try m.saveXGBoost(to: out)
        StandardError.line("wrote \(out) (\(m.trees.count) trees)")
        ModelExport.noteDroppedCalibration(m, format: "XGBoost")
    }
}

struct ModelImportXGBoost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-xgboost",
        abstract: "Convert an XGBoost model (JSON or UBJSON; gbtree, multiclass too) to fsml's format.")

    @Argument(help: "The XGBoost JSON model.") var model: String
    @Argument(help: "The fsml model file to write.") var out: String
    @OptionGroup var imported: ImportedRunOptions

    func run() throws {
        let m = try GBDTModel.loadXGBoost(path: model)
        try m.save(to: out)
        StandardError.line("wrote \(out) (\(m.trees.count) trees, \(m.featureNames.count) features)")
        try imported.log(m, source: model, format: "xgboost")
    }
}

struct ModelExportLightGBM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-lightgbm",
        abstract: "Write a model in LightGBM's text format (lightgbm.Booster(model_file=...) loads it).")

    @Argument(help: "The fsml model file.") var model: String
    @Argument(help: "The LightGBM model file to write.") var out: String

    func run() throws {
        let m = try ModelExport.treeModel(model, format: "LightGBM")
        try m.saveLightGBM(to: out)
        StandardError.line("wrote \(out) (\(m.trees.count) trees)")
        ModelExport.noteDroppedCalibration(m, format: "LightGBM")
    }
}

struct ModelImportLightGBM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-lightgbm",
        abstract: "Convert a LightGBM text model (any objective fsml trains, categorical splits too) to fsml's format.")

    @Argument(help: "The LightGBM model file.") var model: String
    @Argument(help: "The fsml model file to write.") var out: String
    @OptionGroup var imported: ImportedRunOptions

    func run() throws {
        let m = try GBDTModel.loadLightGBM(path: model)
        try m.save(to: out)
        StandardError.line(
            "wrote \(out) (\(m.trees.count) trees, \(m.featureNames.count) features, \(m.objective.rawValue))")
        try imported.log(m, source: model, format: "lightgbm")
    }
}

struct ModelExportONNX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-onnx",
        abstract: "Write a model as ONNX (ai.onnx.ml TreeEnsembleRegressor and the objective's link), for onnxruntime.",
        discussion: """
            One input, `input` (float32, rows x features, in the model's feature order, whose names are in the \
            metadata), one output, `prediction` (rows x 1). ONNX holds leaf values as float32: predictions agree \
            with fsml's to about 1e-7.
            """)

    @Argument(help: "The fsml model file.") var model: String
    @Argument(help: "The ONNX file to write.") var out: String

    func run() throws {
        let m = try ModelExport.treeModel(model, format: "ONNX")
        try m.saveONNX(to: out)
        StandardError.line("wrote \(out) (\(m.trees.count) trees, \(m.featureNames.count) inputs)")
        ModelExport.noteDroppedCalibration(m, format: "ONNX")
    }
}

/// What every export command shares: a tree model to export, and a word when the format cannot
/// hold its calibration.
enum ModelExport {
    static func treeModel(_ path: String, format: String) throws -> GBDTModel {
        guard case .gbdt(let m) = try AnyModel.load(path: path) else {
            throw CLIError("only tree models export to \(format)")
        }
        return m
    }

    static func noteDroppedCalibration(_ m: GBDTModel, format: String) {
        guard let c = m.calibration else { return }
        StandardError.line(
            "note: the \(format) export leaves out the model's \(c.method.rawValue) calibration; it predicts uncalibrated probabilities"
        )
    }
}

/// An imported model logged as a tracked run, which `fsml runs promote` and `fsml serve` take.
struct ImportedRunOptions: ParsableArguments {
    @Option(
        help: """
            Also log the model as a finished run of this experiment (created if absent): `fsml runs promote` \
            and `fsml serve` then take it (its feature names must be the project's features).
            """) var experiment: String?
    @Option(help: "The run's name (default: imported-<model file name>).") var runName: String?
    @OptionGroup var tracking: TrackingOptions

    func log(_ m: GBDTModel, source: String, format: String) throws {
        guard let experiment else { return }
        let name = runName ?? "imported-" + (source.split(separator: "/").last.map(String.init) ?? source)
        let run = try ModelArtifact.logImported(
            m, store: tracking.store, experiment: experiment, name: name, source: source, format: format)
        StandardOutput.write("logged run \(run.id) (\(run.name)) in experiment '\(experiment)'\n")
    }
}
