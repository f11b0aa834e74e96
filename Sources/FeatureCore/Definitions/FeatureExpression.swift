import Foundation
import FsmlCore

/// A derived feature's formula (`amount / merchant_avg_amount_24h`, `coalesce(card_txns_1h, 0)`,
/// `hour_of_day()`): arithmetic over other features, fields of the request (in a build, of the
/// example event) and the evaluation time. Parsed and typed when fsml.yaml loads
/// (`ExpressionParser`); evaluated by the same code in `fsml build` and in the server.
///
/// Values are numbers, NaN meaning missing. Missing in, missing out: every operator and function
/// gives missing when an operand is missing, except `coalesce` (the first operand that is not) and
/// `if` (only the branch taken counts). A result that is not finite (x / 0, log 0, exp 1000) is
/// missing too. Comparisons give 1 or 0. Booleans read as 1 and 0; a string field may only be
/// compared with `==` or `!=` to a string.
public indirect enum FeatureExpression: Sendable, Equatable, CustomStringConvertible {
    case number(Double)
    /// Another feature, by index in the registry.
    case feature(Int, name: String)
    /// A numeric or boolean field of the request (the example event in a build).
    case field(Int, name: String)
    /// `field == "text"` or `!=`: a string field against a literal; missing when the field is.
    case textEquals(field: Int, name: String, text: String, negated: Bool)
    /// A string field's category: the position of its value among `values` (0, 1, ...), missing
    /// for any other value. Models split on it by category (a categorical feature).
    case category(field: Int, name: String, values: [String])
    case unary(UnaryOperator, FeatureExpression)
    case binary(BinaryOperator, FeatureExpression, FeatureExpression)
    case call(Function, [FeatureExpression])

    public enum UnaryOperator: String, Sendable { case negate = "-" }

    public enum BinaryOperator: String, Sendable, CaseIterable {
        case add = "+", subtract = "-", multiply = "*", divide = "/"
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "==", notEqual = "!="

        /// Higher binds tighter.
        var precedence: Int {
            switch self {
            case .multiply, .divide: return 3
            case .add, .subtract: return 2
            default: return 1
            }
        }
    }

    public enum Function: String, Sendable, CaseIterable {
        case log, log1p, exp, abs, sqrt, min, max, clamp, coalesce
        case hourOfDay = "hour_of_day", dayOfWeek = "day_of_week"
        case ifThen = "if"

        /// How many arguments: a fixed count, or at least `minimum` when variadic.
        var arity: (minimum: Int, variadic: Bool) {
            switch self {
            case .log, .log1p, .exp, .abs, .sqrt: return (1, false)
            case .min, .max, .coalesce: return (2, true)
            case .clamp, .ifThen: return (3, false)
            case .hourOfDay, .dayOfWeek: return (0, false)
            }
        }
    }

    /// What an evaluation reads: other features' values, the request's fields, the time.
    public struct Inputs {
        public var feature: (Int) -> Double
        public var field: (Int) -> FieldValue
        public var time: Micros

        public init(feature: @escaping (Int) -> Double, field: @escaping (Int) -> FieldValue, time: Micros) {
            self.feature = feature
            self.field = field
            self.time = time
        }
    }

    public func evaluate(_ inputs: Inputs) -> Double {
        let v = raw(inputs)
        return v.isFinite ? v : .nan
    }

    private func raw(_ inputs: Inputs) -> Double {
        switch self {
        case .number(let x): return x
        case .feature(let f, _): return inputs.feature(f)
        case .field(let i, _): return inputs.field(i).numericValue ?? .nan
        case .textEquals(let i, _, let text, let negated):
            guard case .string(let s) = inputs.field(i) else { return .nan }
            return (s == text) != negated ? 1 : 0
        case .category(let i, _, let values):
            guard case .string(let s) = inputs.field(i), let k = values.firstIndex(of: s) else { return .nan }
            return Double(k)
        case .unary(.negate, let a): return -a.evaluate(inputs)
        case .binary(let op, let a, let b):
            let x = a.evaluate(inputs)
            let y = b.evaluate(inputs)
            if x.isNaN || y.isNaN { return .nan }
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
        case .call(let function, let arguments):
            return Self.call(function, arguments, inputs)
        }
    }

    private static func call(_ function: Function, _ arguments: [FeatureExpression], _ inputs: Inputs) -> Double {
        switch function {
        case .coalesce:
            for a in arguments {
                let v = a.evaluate(inputs)
                if !v.isNaN { return v }
            }
            return .nan
        case .ifThen:
            let c = arguments[0].evaluate(inputs)
            if c.isNaN { return .nan }
            return (c != 0 ? arguments[1] : arguments[2]).evaluate(inputs)
        case .hourOfDay:
            return Double((Timestamp.floorDiv(inputs.time, Timestamp.microsPerHour) % 24 + 24) % 24)
        case .dayOfWeek:
            // 1970-01-01 was a Thursday; ISO numbering, Monday 1 to Sunday 7.
            let days = Timestamp.floorDiv(inputs.time, Timestamp.microsPerDay)
            return Double(((days + 3) % 7 + 7) % 7 + 1)
        default: break
        }
        let values = arguments.map { $0.evaluate(inputs) }
        if values.contains(where: \.isNaN) { return .nan }
        switch function {
        case .log: return values[0] > 0 ? Foundation.log(values[0]) : .nan
        case .log1p: return values[0] > -1 ? Foundation.log1p(values[0]) : .nan
        case .exp: return Foundation.exp(values[0])
        case .abs: return Swift.abs(values[0])
        case .sqrt: return values[0] >= 0 ? values[0].squareRoot() : .nan
        case .min: return values.min()!
        case .max: return values.max()!
        case .clamp: return Swift.min(Swift.max(values[0], values[1]), values[2])
        case .coalesce, .ifThen, .hourOfDay, .dayOfWeek: return .nan
        }
    }

    /// The features it reads directly.
    public var features: Set<Int> {
        switch self {
        case .feature(let f, _): return [f]
        case .number, .field, .textEquals, .category: return []
        case .unary(_, let a): return a.features
        case .binary(_, let a, let b): return a.features.union(b.features)
        case .call(_, let args): return args.reduce(into: Set<Int>()) { $0.formUnion($1.features) }
        }
    }

    /// The features it reads directly, in the order the text names them (first occurrence).
    public var featuresInOrder: [Int] {
        var out: [Int] = []
        func walk(_ e: FeatureExpression) {
            switch e {
            case .feature(let f, _): if !out.contains(f) { out.append(f) }
            case .number, .field, .textEquals, .category: break
            case .unary(_, let a): walk(a)
            case .binary(_, let a, let b):
                walk(a)
                walk(b)
            case .call(_, let args): args.forEach(walk)
            }
        }
        walk(self)
        return out
    }

    /// Whether it is a category (`category(field, ...)`): a model should split on it by category.
    public var isCategory: Bool {
        if case .category = self { return true }
        return false
    }

    /// The request fields it reads directly.
    public var fields: Set<Int> {
        switch self {
        case .field(let i, _), .textEquals(let i, _, _, _), .category(let i, _, _): return [i]
        case .number, .feature: return []
        case .unary(_, let a): return a.fields
        case .binary(_, let a, let b): return a.fields.union(b.fields)
        case .call(_, let args): return args.reduce(into: Set<Int>()) { $0.formUnion($1.fields) }
        }
    }

    /// Canonical text: parsing it gives the same expression; part of definition hashes.
    public var description: String { text(parentPrecedence: 0) }

    private func text(parentPrecedence: Int) -> String {
        switch self {
        case .number(let x): return x == x.rounded() && x.magnitude < 1e15 ? String(Int64(x)) : "\(x)"
        case .feature(_, let name), .field(_, let name): return name
        case .textEquals(_, let name, let text, let negated):
            let s = "\(name) \(negated ? "!=" : "==") \(JSONText.quote(text))"
            return parentPrecedence >= 1 ? "(\(s))" : s
        case .category(_, let name, let values):
            return "category(\(([name] + values.map(JSONText.quote)).joined(separator: ", ")))"
        case .unary(.negate, let a): return "-" + a.text(parentPrecedence: 4)
        case .binary(let op, let a, let b):
            let p = op.precedence
            // Left-associative: the right operand of an equal precedence needs parentheses.
            let s = "\(a.text(parentPrecedence: p)) \(op.rawValue) \(b.text(parentPrecedence: p + 1))"
            return p < parentPrecedence || (p == 1 && parentPrecedence == 1) ? "(\(s))" : s
        case .call(let f, let args):
            return "\(f.rawValue)(\(args.map { $0.text(parentPrecedence: 0) }.joined(separator: ", ")))"
        }
    }
}
