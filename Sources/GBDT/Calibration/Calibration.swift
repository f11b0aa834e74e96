import Foundation
import FsmlCore

/// A map from a binary model's probabilities to calibrated ones, fitted on a held-out slice and
/// stored with the model, so that every scorer (predict, the server) applies the same one.
public enum Calibration: Sendable, Equatable {
    /// Platt scaling on the log-odds: p' = 1 / (1 + exp(a · logit(p) + b)).
    case platt(a: Double, b: Double)
    /// Isotonic regression: linear between the points (x increasing, y non-decreasing), constant
    /// beyond the first and last, as scikit-learn's IsotonicRegression(out_of_bounds="clip").
    case isotonic(x: [Double], y: [Double])

    public enum Method: String, Sendable, CaseIterable {
        case platt, isotonic
    }

    public var method: Method {
        switch self {
        case .platt: .platt
        case .isotonic: .isotonic
        }
    }

    @inline(__always)
    public func apply(_ p: Double) -> Double {
        switch self {
        case .platt(let a, let b):
            return 1 / (1 + exp(a * Self.logit(p) + b))
        case .isotonic(let x, let y):
            guard let first = x.first, let last = x.last else { return p }
            if p <= first { return y[0] }
            if p >= last { return y[y.count - 1] }
            // The last point at or below p.
            var (lo, hi) = (0, x.count - 1)
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if x[mid] <= p { lo = mid } else { hi = mid }
            }
            let span = x[hi] - x[lo]
            return span > 0 ? y[lo] + (y[hi] - y[lo]) * (p - x[lo]) / span : y[hi]
        }
    }

    /// The log-odds, with p kept off 0 and 1.
    static func logit(_ p: Double) -> Double {
        let q = min(max(p, 1e-15), 1 - 1e-15)
        return log(q / (1 - q))
    }

    public func jsonValue() -> JSONValue {
        switch self {
        case .platt(let a, let b):
            return .object([("method", .string("platt")), ("a", .number(a)), ("b", .number(b))])
        case .isotonic(let x, let y):
            return .object([
                ("method", .string("isotonic")), ("x", .array(x.map { .number($0) })),
                ("y", .array(y.map { .number($0) })),
            ])
        }
    }

    static func load(_ node: JSONNode, _ r: JSONReader) throws -> Calibration {
        let o = try r.object(node, "calibration")
        switch try r.string(o["method"], "calibration.method") {
        case "platt":
            return .platt(a: try r.double(o["a"], "calibration.a"), b: try r.double(o["b"], "calibration.b"))
        case "isotonic":
            let x = try r.doubles(o["x"], "calibration.x")
            let y = try r.doubles(o["y"], "calibration.y")
            guard x.count == y.count, !x.isEmpty, zip(x, x.dropFirst()).allSatisfy({ $0 <= $1 }),
                zip(y, y.dropFirst()).allSatisfy({ $0 <= $1 })
            else {
                throw ModelFileError(
                    "\(r.file): calibration.x and calibration.y must be non-empty, as long as each other and increasing"
                )
            }
            return .isotonic(x: x, y: y)
        case let other:
            throw ModelFileError("\(r.file): calibration.method '\(other)' is not platt or isotonic")
        }
    }
}
