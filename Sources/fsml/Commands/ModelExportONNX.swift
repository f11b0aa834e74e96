import ArgumentParser
import FsmlCore
import GBDT
import Tracking

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
