/// Parses and types a derived feature's expression (docs/semantics.md §5):
///
///     expression := sum ( ("==" | "!=" | "<" | "<=" | ">" | ">=") sum )?
///     sum        := product ( ("+" | "-") product )*
///     product    := unary ( ("*" | "/") unary )*
///     unary      := "-" unary | primary
///     primary    := number | true | false | name | function "(" arguments ")" | "(" expression ")"
///                 | "category" "(" field ("," text)+ ")"
///
/// A name is a feature of the registry or a numeric or boolean event field (read from the request,
/// or the example event in a build); a string field may only be compared, `field == "text"`, or
/// made a category, `category(field, "a", "b")` (0 for "a", 1 for "b", missing otherwise).
public struct ExpressionParser {
    public struct Failure: Error, Equatable, Sendable {
        public let message: String
    }

    private var tokens: [String]
    private var pos = 0
    private let schema: EventSchema
    private let feature: (String) -> Int?

    public static func parse(
        _ text: String, schema: EventSchema, feature: @escaping (String) -> Int?
    ) throws(Failure) -> FeatureExpression {
        var p = ExpressionParser(tokens: try tokenize(text), schema: schema, feature: feature)
        guard !p.tokens.isEmpty else { throw Failure(message: "empty expression") }
        let e = try p.comparison()
        if let t = p.peek { throw Failure(message: "unexpected '\(t)'") }
        return e
    }

    private init(tokens: [String], schema: EventSchema, feature: @escaping (String) -> Int?) {
        self.tokens = tokens
        self.schema = schema
        self.feature = feature
    }

    private var peek: String? { pos < tokens.count ? tokens[pos] : nil }

    private mutating func take() throws(Failure) -> String {
        guard let t = peek else { throw Failure(message: "the expression ends too early") }
        pos += 1
        return t
    }

    private static let comparisons: [String: FeatureExpression.BinaryOperator] = [
        "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
    ]

    private mutating func comparison() throws(Failure) -> FeatureExpression {
        // A string field compared with text.
        if let name = peek, let i = schema.index(of: name), schema.fields[i].type == .string, feature(name) == nil {
            pos += 1
            let op = try take()
            guard op == "==" || op == "!=" else {
                throw Failure(message: "'\(name)' is a string field: compare it with == or != to a text")
            }
            let text = Self.unquote(try take())
            return .textEquals(field: i, name: name, text: text, negated: op == "!=")
        }
        let left = try sum()
        guard let t = peek, let op = Self.comparisons[t] else { return left }
        pos += 1
        let right = try sum()
        if let t = peek, Self.comparisons[t] != nil {
            throw Failure(message: "comparisons do not chain: use parentheses")
        }
        return .binary(op, left, right)
    }

    private mutating func sum() throws(Failure) -> FeatureExpression {
        var e = try product()
        while let t = peek, t == "+" || t == "-" {
            pos += 1
            e = .binary(t == "+" ? .add : .subtract, e, try product())
        }
        return e
    }

    private mutating func product() throws(Failure) -> FeatureExpression {
        var e = try unary()
        while let t = peek, t == "*" || t == "/" {
            pos += 1
            e = .binary(t == "*" ? .multiply : .divide, e, try unary())
        }
        return e
    }

    private mutating func unary() throws(Failure) -> FeatureExpression {
        if peek == "-" {
            pos += 1
            return .unary(.negate, try unary())
        }
        return try primary()
    }

    private mutating func primary() throws(Failure) -> FeatureExpression {
        let t = try take()
        if t == "(" {
            let e = try comparison()
            guard peek == ")" else { throw Failure(message: "expected ')'\(peek.map { " but found '\($0)'" } ?? "")") }
            pos += 1
            return e
        }
        if let first = t.unicodeScalars.first, first == "\"" || first == "'" {
            throw Failure(message: "a text (\(t)) can only be compared with a string field")
        }
        if let x = Double(t), t.first?.isNumber == true || t.first == "." {
            guard x.isFinite else { throw Failure(message: "'\(t)' is not a finite number") }
            return .number(x)
        }
        if t == "true" || t == "false" { return .number(t == "true" ? 1 : 0) }
        guard t.first.map({ $0.isLetter || $0 == "_" }) ?? false else { throw Failure(message: "unexpected '\(t)'") }
        if t == "category" && peek == "(" { return try category() }
        if peek == "(" {
            guard let function = FeatureExpression.Function(rawValue: t) else {
                throw Failure(
                    message:
                        "unknown function '\(t)' (\(FeatureExpression.Function.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            pos += 1
            var arguments: [FeatureExpression] = []
            if peek == ")" {
                pos += 1
            } else {
                while true {
                    arguments.append(try comparison())
                    let sep = try take()
                    if sep == ")" { break }
                    guard sep == "," else { throw Failure(message: "expected ',' or ')' but found '\(sep)'") }
                }
            }
            let (minimum, variadic) = function.arity
            guard variadic ? arguments.count >= minimum : arguments.count == minimum else {
                throw Failure(
                    message:
                        "\(t) takes \(variadic ? "at least " : "")\(minimum) argument\(minimum == 1 ? "" : "s"), not \(arguments.count)"
                )
            }
            return .call(function, arguments)
        }
        let f = feature(t)
        let field = schema.index(of: t)
        if f != nil && field != nil {
            throw Failure(message: "'\(t)' is both a feature and an event field: rename the feature")
        }
        if let f { return .feature(f, name: t) }
        guard let field else { throw Failure(message: "'\(t)' is not a feature or an event field") }
        switch schema.fields[field].type {
        case .int, .float, .bool: return .field(field, name: t)
        case .string: throw Failure(message: "'\(t)' is a string field: compare it with == or != to a text")
        case .timestamp: throw Failure(message: "'\(t)' is a timestamp: use hour_of_day() or day_of_week()")
        }
    }

    /// `category(field, "a", "b", ...)`: a string field and its categories, each named once.
    private mutating func category() throws(Failure) -> FeatureExpression {
        pos += 1  // (
        let name = try take()
        guard let i = schema.index(of: name), schema.fields[i].type == .string else {
            throw Failure(message: "category() takes a string field first, not '\(name)'")
        }
        var values: [String] = []
        while true {
            let sep = try take()
            if sep == ")" { break }
            guard sep == "," else { throw Failure(message: "expected ',' or ')' but found '\(sep)'") }
            let text = try take()
            guard let f = text.first, f == "\"" || f == "'" else {
                throw Failure(message: "category() lists its categories as texts, not '\(text)'")
            }
            let value = Self.unquote(text)
            guard !values.contains(value) else { throw Failure(message: "category() names \(text) twice") }
            values.append(value)
        }
        guard !values.isEmpty else { throw Failure(message: "category(\(name)) needs at least one category") }
        return .category(field: i, name: name, values: values)
    }

    private static func unquote(_ t: String) -> String {
        if t.count >= 2, let f = t.first, f == "'" || f == "\"", t.last == f { return String(t.dropFirst().dropLast()) }
        return t
    }

    private static func tokenize(_ text: String) throws(Failure) -> [String] {
        var tokens: [String] = []
        let c = Array(text)
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch.isWhitespace {
                i += 1
            } else if "()+-*/,".contains(ch) {
                tokens.append(String(ch))
                i += 1
            } else if "=!<>".contains(ch) {
                var op = String(ch)
                if i + 1 < c.count && c[i + 1] == "=" { op.append("=") }
                guard comparisons[op] != nil else { throw Failure(message: "unknown operator '\(op)'") }
                tokens.append(op)
                i += op.count
            } else if ch == "'" || ch == "\"" {
                var j = i + 1
                while j < c.count && c[j] != ch { j += 1 }
                guard j < c.count else { throw Failure(message: "unterminated text") }
                tokens.append(String(c[i...j]))
                i = j + 1
            } else if ch.isNumber || ch == "." {
                var j = i
                while j < c.count
                    && (c[j].isNumber || c[j] == "." || c[j] == "e" || c[j] == "E"
                        || ((c[j] == "+" || c[j] == "-") && (c[j - 1] == "e" || c[j - 1] == "E")))
                {
                    j += 1
                }
                tokens.append(String(c[i..<j]))
                i = j
            } else if ch.isLetter || ch == "_" {
                var j = i
                while j < c.count && (c[j].isLetter || c[j].isNumber || c[j] == "_" || c[j] == ".") { j += 1 }
                tokens.append(String(c[i..<j]))
                i = j
            } else {
                throw Failure(message: "unexpected '\(ch)'")
            }
        }
        return tokens
    }
}
