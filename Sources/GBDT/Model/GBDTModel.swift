import FsmlCore

/// A trained (or imported) ensemble: margin = initScore + Σ tree outputs; the objective's link
/// turns the margin into a probability or a value. A multiclass model has `numClass` margins a
/// row: tree t adds to class t mod numClass (the trees of a round side by side, as LightGBM and
/// XGBoost keep them), and the softmax of the margins gives the probabilities.
public struct GBDTModel: Sendable, Equatable {
    public var objective: ObjectiveKind
    public var initScore: Double
    /// Outputs a row: the class count of a multiclass model, 1 otherwise.
    public var numClass: Int
    public var trees: [Tree]
    public var featureNames: [String]
    /// How the model was trained, as `key=value` text (LightGBM names).
    public var parameters: [String: String]
    /// Rounds kept by early stopping (a round is `numClass` trees); all of them otherwise.
    public var bestIteration: Int
    /// "fsml", or the tool that trained an imported model.
    public var trainedBy: String
    /// Applied to the objective's probability by every scorer (binary models only).
    public var calibration: Calibration?

    public init(
        objective: ObjectiveKind, initScore: Double, trees: [Tree], featureNames: [String],
        parameters: [String: String] = [:], bestIteration: Int? = nil, trainedBy: String = "fsml",
        calibration: Calibration? = nil, numClass: Int = 1
    ) {
        self.objective = objective
        self.initScore = initScore
        self.numClass = numClass
        self.trees = trees
        self.featureNames = featureNames
        self.parameters = parameters
        self.bestIteration = bestIteration ?? trees.count / max(numClass, 1)
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

    /// Every class's margin of one row by plain tree walks (one value for other objectives).
    public func margins(_ row: [Float]) -> [Double] {
        var m = [Double](repeating: initScore, count: numClass)
        row.withUnsafeBufferPointer { r in
            for (t, tree) in trees.enumerated() { m[t % numClass] += tree.predict(r.baseAddress!) }
        }
        return m
    }

    /// Class probabilities of one row (a multiclass model), by plain tree walks.
    public func predictClasses(_ row: [Float]) -> [Double] {
        var m = margins(row)
        m.withUnsafeMutableBufferPointer { MulticlassObjective.softmax($0) }
        return m
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
