import ArgumentParser
import FsmlCore
import GBDT
import Tracking

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
