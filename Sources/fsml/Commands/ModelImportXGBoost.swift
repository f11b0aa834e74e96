import ArgumentParser
import FsmlCore
import GBDT
import Tracking

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
