import Foundation

/// The loss a model is trained for. Names follow XGBoost's vocabulary in model files
/// (`binary:logistic`, `reg:squarederror`) and accept LightGBM's on the command line.
public enum ObjectiveKind: String, Sendable, Equatable, CaseIterable {
    case binary = "binary:logistic"
    case regression = "reg:squarederror"

    public init?(name: String) {
        switch name.lowercased() {
        case "binary", "binary:logistic", "logistic", "cross_entropy", "xentropy": self = .binary
        case "regression", "reg:squarederror", "l2", "mse", "regression_l2", "mean_squared_error", "rmse":
            self = .regression
        default: return nil
        }
    }

    /// The constant margin boosting starts from: the log-odds of the mean label, or the mean.
    public func initialScore(labels: [Float]) -> Double {
        let mean = labels.reduce(0.0) { $0 + Double($1) } / Double(max(labels.count, 1))
        switch self {
        case .binary:
            let p = min(max(mean, 1e-15), 1 - 1e-15)
            return log(p / (1 - p))
        case .regression:
            return mean
        }
    }

    /// Gradient and hessian of the loss at each margin of `rows`.
    public func gradients(
        scores: UnsafePointer<Double>, labels: UnsafePointer<Float>, gradients g: UnsafeMutablePointer<Float>,
        hessians h: UnsafeMutablePointer<Float>, rows: Range<Int>
    ) {
        switch self {
        case .binary:
            for i in rows {
                let p = 1 / (1 + exp(-scores[i]))
                g[i] = Float(p - Double(labels[i]))
                h[i] = Float(max(p * (1 - p), 1e-16))
            }
        case .regression:
            for i in rows {
                g[i] = Float(scores[i] - Double(labels[i]))
                h[i] = 1
            }
        }
    }

    /// Margin to output: probability or value.
    @inline(__always)
    public func transform(_ margin: Double) -> Double {
        switch self {
        case .binary: return 1 / (1 + exp(-margin))
        case .regression: return margin
        }
    }

    /// Labels must be 0/1 for binary objectives.
    public func validate(labels: [Float]) -> String? {
        if self == .binary, let bad = labels.first(where: { $0 != 0 && $0 != 1 }) {
            return "binary labels must be 0 or 1 (found \(bad))"
        }
        if labels.contains(where: { !$0.isFinite }) { return "labels must be finite numbers" }
        return nil
    }
}
