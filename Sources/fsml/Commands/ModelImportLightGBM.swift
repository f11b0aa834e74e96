import ArgumentParser
import FsmlCore
import GBDT
import Tracking

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
