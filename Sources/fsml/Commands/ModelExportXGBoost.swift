import ArgumentParser
import FsmlCore
import GBDT
import Tracking

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
