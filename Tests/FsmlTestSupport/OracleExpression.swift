import FeatureCore
import Foundation

/// Derived features' expressions evaluated again from docs/semantics.md, reading the parsed
/// expression as data: missing in, missing out (coalesce and if excepted), x / 0 and any result
/// that is not finite missing, comparisons 1 or 0, booleans 1 or 0, hour_of_day and day_of_week
/// (ISO, Monday 1) of the evaluation time in UTC, a category the position of the field's text among
/// its values.
enum OracleExpression {
    static func evaluate(
        _ e: FeatureExpression, feature: (Int) -> Double, field: (String) -> FeatureOracle.Value?, time: Int64
    ) -> Double {
        func go(_ e: FeatureExpression) -> Double {
            let v = raw(e)
            return v.isFinite ? v : .nan
        }
        func raw(_ e: FeatureExpression) -> Double {
            switch e {
            case .number(let x): return x
            case .feature(let f, _): return feature(f)
            case .field(_, let name):
                switch field(name) {
                case .number(let x)?: return x
                case .bool(let b)?: return b ? 1 : 0
                default: return .nan
                }
            case .textEquals(_, let name, let text, let negated):
                guard case .string(let s)? = field(name) else { return .nan }
                return (s == text) == !negated ? 1 : 0
            case .category(_, let name, let values):
                guard case .string(let s)? = field(name) else { return .nan }
                return values.firstIndex(of: s).map(Double.init) ?? .nan
            case .unary(_, let a): return -go(a)
            case .binary(let op, let a, let b):
                let (x, y) = (go(a), go(b))
                guard !x.isNaN && !y.isNaN else { return .nan }
                switch op {
                case .add: return x + y
                case .subtract: return x - y
                case .multiply: return x * y
                case .divide: return y == 0 ? .nan : x / y
                case .less: return x < y ? 1 : 0
                case .lessOrEqual: return x <= y ? 1 : 0
                case .greater: return x > y ? 1 : 0
                case .greaterOrEqual: return x >= y ? 1 : 0
                case .equal: return x == y ? 1 : 0
                case .notEqual: return x != y ? 1 : 0
                }
            case .call(let f, let args):
                switch f {
                case .coalesce:
                    for a in args {
                        let v = go(a)
                        if !v.isNaN { return v }
                    }
                    return .nan
                case .ifThen:
                    let c = go(args[0])
                    return c.isNaN ? .nan : c != 0 ? go(args[1]) : go(args[2])
                case .hourOfDay:
                    let seconds = Int64((Double(time) / 1e6).rounded(.down))
                    return Double(((seconds / 3600) % 24 + 24) % 24)
                case .dayOfWeek:
                    var days = time / 86_400_000_000
                    if time % 86_400_000_000 < 0 { days -= 1 }
                    // 1970-01-01 was a Thursday (ISO 4).
                    return Double(((days % 7) + 7 + 3) % 7 + 1)
                default: break
                }
                let xs = args.map(go)
                if xs.contains(where: \.isNaN) { return .nan }
                switch f {
                case .log: return xs[0] > 0 ? log(xs[0]) : .nan
                case .log1p: return xs[0] > -1 ? log1p(xs[0]) : .nan
                case .exp: return exp(xs[0])
                case .abs: return abs(xs[0])
                case .sqrt: return xs[0] < 0 ? .nan : xs[0].squareRoot()
                case .min: return xs.min()!
                case .max: return xs.max()!
                case .clamp: return min(max(xs[0], xs[1]), xs[2])
                default: return .nan
                }
            }
        }
        return go(e)
    }
}
