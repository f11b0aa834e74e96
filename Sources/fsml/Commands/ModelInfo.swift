import ArgumentParser
import FsmlCore
import GBDT
import Tracking

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
