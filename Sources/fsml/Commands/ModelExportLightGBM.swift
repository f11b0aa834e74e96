import ArgumentParser
import FsmlCore
import GBDT
import Tracking

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
