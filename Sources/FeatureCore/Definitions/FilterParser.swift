import FsmlCore

public struct FilterParseError: Error, Equatable, Sendable {
    public let message: String
}

/// Recursive descent over: `or` of `and` of (`not` term | `(` expr `)` | field op value |
/// field `in` `[` values `]`).
public struct FilterParser {
    private var tokens: [String]
    private var pos = 0
    private let schema: EventSchema

    public static func parse(_ text: String, schema: EventSchema) throws(FilterParseError) -> Filter {
        var p = FilterParser(tokens: try tokenize(text), schema: schema)
        guard !p.tokens.isEmpty else { throw FilterParseError(message: "empty filter") }
        let f = try p.parseOr()
        if p.pos < p.tokens.count { throw FilterParseError(message: "unexpected '\(p.tokens[p.pos])'") }
        return f
    }

    private init(tokens: [String], schema: EventSchema) {
        self.tokens = tokens
        self.schema = schema
    }

    private var peek: String? { pos < tokens.count ? tokens[pos] : nil }

    private mutating func take() throws(FilterParseError) -> String {
        guard let t = peek else { throw FilterParseError(message: "filter ends too early") }
        pos += 1
        return t
    }

    private mutating func expect(_ t: String) throws(FilterParseError) {
        guard peek != nil else { throw FilterParseError(message: "expected '\(t)' but the filter ends") }
        let got = try take()
        guard got == t else { throw FilterParseError(message: "expected '\(t)' but found '\(got)'") }
    }

    private mutating func parseOr() throws(FilterParseError) -> Filter {
        var left = try parseAnd()
        while peek == "or" {
            pos += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws(FilterParseError) -> Filter {
        var left = try parseTerm()
        while peek == "and" {
            pos += 1
            left = .and(left, try parseTerm())
        }
        return left
    }

    private mutating func parseTerm() throws(FilterParseError) -> Filter {
        if peek == "not" {
            pos += 1
            return .not(try parseTerm())
        }
        if peek == "(" {
            pos += 1
            let inner = try parseOr()
            try expect(")")
            return inner
        }
        let name = try take()
        guard let field = schema.index(of: name) else {
            throw FilterParseError(
                message: "unknown field '\(name)' (fields: \(schema.fields.map(\.name).joined(separator: ", ")))")
        }
        let spec = schema.fields[field]
        let opText = try take()
        if opText == "in" {
            try expect("[")
            var values: [FieldValue] = []
            while true {
                values.append(try value(for: spec, token: try take()))
                let sep = try take()
                if sep == "]" { break }
                guard sep == "," else { throw FilterParseError(message: "expected ',' or ']' but found '\(sep)'") }
            }
            return .isIn(field: field, name: name, values: values)
        }
        guard let op = CompareOp(rawValue: opText) else {
            throw FilterParseError(
                message: "expected a comparison (== != < <= > >= in) after '\(name)' but found '\(opText)'")
        }
        let v = try value(for: spec, token: try take())
        if case .bool = v, op != .eq && op != .ne {
            throw FilterParseError(message: "'\(op.rawValue)' does not apply to the boolean field '\(name)'")
        }
        return .compare(field: field, name: name, op: op, value: v)
    }

    private func value(for spec: FieldSpec, token: String) throws(FilterParseError) -> FieldValue {
        let unquoted = FilterParser.unquote(token)
        switch spec.type {
        case .string:
            if let allowed = spec.values, !allowed.contains(unquoted) {
                throw FilterParseError(
                    message: "'\(unquoted)' is not a value of \(spec.name) (one of \(allowed.joined(separator: ", ")))")
            }
            return .string(unquoted)
        case .int, .float:
            guard let x = Double(unquoted), x.isFinite else {
                throw FilterParseError(message: "'\(token)' is not a number, but \(spec.name) is numeric")
            }
            return .number(x)
        case .bool:
            switch unquoted {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw FilterParseError(message: "'\(token)' is not true or false, but \(spec.name) is boolean")
            }
        case .timestamp:
            throw FilterParseError(message: "filters on the timestamp field '\(spec.name)' are not supported")
        }
    }

    private static func unquote(_ token: String) -> String {
        if token.count >= 2, let f = token.first, f == "'" || f == "\"", token.last == f {
            return String(token.dropFirst().dropLast())
        }
        return token
    }

    private static func tokenize(_ text: String) throws(FilterParseError) -> [String] {
        var tokens: [String] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
            } else if "()[],".contains(c) {
                tokens.append(String(c))
                i += 1
            } else if c == "'" || c == "\"" {
                var j = i + 1
                while j < chars.count && chars[j] != c { j += 1 }
                guard j < chars.count else { throw FilterParseError(message: "unterminated string") }
                tokens.append(String(chars[i...j]))
                i = j + 1
            } else if "=!<>".contains(c) {
                var op = String(c)
                if i + 1 < chars.count && chars[i + 1] == "=" { op.append("=") }
                guard CompareOp(rawValue: op) != nil else {
                    throw FilterParseError(message: "unknown operator '\(op)'")
                }
                tokens.append(op)
                i += op.count
            } else {
                var j = i
                while j < chars.count && !chars[j].isWhitespace && !"()[],=!<>'\"".contains(chars[j]) { j += 1 }
                tokens.append(String(chars[i..<j]))
                i = j
            }
        }
        return tokens
    }
}
