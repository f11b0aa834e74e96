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
