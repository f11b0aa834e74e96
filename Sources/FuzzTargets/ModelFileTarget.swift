import GBDT

/// Model files (model.json of a run, or one handed over): an error, or a model that predicts for
/// any row without trapping or looping (a probability, for a binary model).
enum ModelFileTarget {
    static let target = FuzzTarget(name: "model", summary: "fsml's model files and the predictor", run: run)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let model = try? GBDTModel.load(bytes: Array(bytes), file: "model.json") else { return }
        for row in [
            [Float](repeating: 0, count: model.featureCount), [Float](repeating: .nan, count: model.featureCount),
            [Float](repeating: -.greatestFiniteMagnitude, count: model.featureCount),
        ] {
            let p = model.predict(row)
            if model.objective == .binary { mustHold(p.isNaN || (0...1).contains(p), "a probability of \(p)") }
        }
    }
}
