import FsmlCore

/// A trained (or imported) ensemble: margin = initScore + Σ tree outputs; the objective's link
/// turns the margin into a probability or a value.
public struct GBDTModel: Sendable, Equatable {
    public var objective: ObjectiveKind
    public var initScore: Double
    public var trees: [Tree]
    public var featureNames: [String]
    /// How the model was trained, as `key=value` text (LightGBM names).
    public var parameters: [String: String]
    /// Trees kept by early stopping; all of them otherwise.
    public var bestIteration: Int
    /// "fsml", or the tool that trained an imported model.
    public var trainedBy: String
    /// Applied to the objective's probability by every scorer (binary models only).
    public var calibration: Calibration?

    public init(
        objective: ObjectiveKind, initScore: Double, trees: [Tree], featureNames: [String],
        parameters: [String: String] = [:], bestIteration: Int? = nil, trainedBy: String = "fsml",
        calibration: Calibration? = nil
    ) {
        self.objective = objective
        self.initScore = initScore
        self.trees = trees
        self.featureNames = featureNames
        self.parameters = parameters
        self.bestIteration = bestIteration ?? trees.count
        self.trainedBy = trainedBy
        self.calibration = calibration
    }

    public var featureCount: Int { featureNames.count }

    /// The margin of one row by plain tree walks: the reference the fast predictor must equal.
    public func margin(_ row: UnsafePointer<Float>) -> Double {
        var m = initScore
        for t in trees { m += t.predict(row) }
        return m
    }

    public func predict(_ row: [Float]) -> Double {
        row.withUnsafeBufferPointer { probability(margin: margin($0.baseAddress!)) }
    }

    /// The objective's link, then the calibration if there is one.
    @inline(__always)
    public func probability(margin: Double) -> Double {
        let p = objective.transform(margin)
        return calibration?.apply(p) ?? p
    }

    /// Split count or total split gain per feature.
    public func featureImportance(_ kind: ImportanceKind) -> [Double] {
        var out = [Double](repeating: 0, count: featureNames.count)
        for t in trees {
            for (n, f) in t.splitFeature.enumerated() where Int(f) < out.count {
                out[Int(f)] += kind == .split ? 1 : t.splitGain[n]
            }
        }
        return out
    }
}

public enum ImportanceKind: String, Sendable, CaseIterable {
    case split, gain
}
