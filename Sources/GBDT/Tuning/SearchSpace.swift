import Foundation

/// Where one hyperparameter is searched, as Optuna declares it: `uniform(lo, hi)`,
/// `loguniform(lo, hi)` (uniform in log space), `int(lo, hi)` (whole numbers, both ends included;
/// `int(lo, hi, log)` in log space) and `choice(a, b, ...)` (categories, no order).
public enum ParameterDistribution: Sendable, Equatable, CustomStringConvertible {
    case uniform(Double, Double)
    case logUniform(Double, Double)
    case int(Int, Int, log: Bool)
    case choice([String])

    public var description: String {
        switch self {
        case .uniform(let lo, let hi): "uniform(\(Self.text(lo)), \(Self.text(hi)))"
        case .logUniform(let lo, let hi): "loguniform(\(Self.text(lo)), \(Self.text(hi)))"
        case .int(let lo, let hi, let log): "int(\(lo), \(hi)\(log ? ", log" : ""))"
        case .choice(let values): "choice(\(values.joined(separator: ", ")))"
        }
    }

    /// A number as a parameter value: whole numbers without a decimal point, others in the
    /// shortest text that reads back the same.
    public static func text(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }

    /// The value of `x` (internal representation: the number, or the index of a choice) as text.
    public func valueText(_ x: Double) -> String {
        switch self {
        case .uniform, .logUniform: Self.text(x)
        case .int: String(Int(x))
        case .choice(let values): values[Int(x)]
        }
    }
}

/// The parameters a study searches, in declaration order (which is also the order they are drawn
/// in, so that a seed gives the same trials).
public struct SearchSpace: Sendable, Equatable {
    public var parameters: [(name: String, distribution: ParameterDistribution)]

    public init(_ parameters: [(name: String, distribution: ParameterDistribution)]) {
        self.parameters = parameters
    }

    public static func == (a: SearchSpace, b: SearchSpace) -> Bool {
        a.parameters.map(\.name) == b.parameters.map(\.name)
            && a.parameters.map(\.distribution) == b.parameters.map(\.distribution)
    }

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Parses `name=kind(args)` items, separated by spaces, commas outside parentheses or
    /// newlines: `learning_rate=loguniform(0.01,0.3) num_leaves=int(8, 128) min_data_in_leaf=choice(10,20,50)`.
    public static func parse(_ text: String) throws(ParseError) -> SearchSpace {
        var items: [String] = []
        var current = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if depth == 0 && (c == " " || c == "\n" || c == "\t" || c == ";" || c == ",") {
                if !current.isEmpty { items.append(current) }
                current = ""
            } else if depth > 0 && c == " " {
                continue
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { items.append(current) }
        var space = SearchSpace([])
        for item in items {
            guard let eq = item.firstIndex(of: "=") ?? item.firstIndex(of: ":") else {
                throw ParseError("'\(item)': expected name=kind(args), e.g. num_leaves=int(8,128)")
            }
            try space.add(String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
        guard !space.parameters.isEmpty else { throw ParseError("the search space is empty") }
        return space
    }

    /// Adds one parameter from its name and its `kind(args)` text.
    public mutating func add(_ rawName: String, _ rawSpec: String) throws(ParseError) {
        let name = rawName.trimmingCharacters(in: .whitespaces)
        let spec = rawSpec.filter { $0 != " " }
        guard !name.isEmpty else { throw ParseError("'\(rawSpec)': a parameter needs a name") }
        if parameters.contains(where: { $0.name == name }) { throw ParseError("\(name) is declared twice") }
        guard let open = spec.firstIndex(of: "("), spec.hasSuffix(")") else {
            throw ParseError("\(name)=\(spec): expected kind(args): uniform, loguniform, int or choice")
        }
        let kind = spec[..<open].lowercased()
        let args = spec[spec.index(after: open)..<spec.index(before: spec.endIndex)].split(separator: ",").map(
            String.init)
        func numbers(_ count: Int) throws(ParseError) -> [Double] {
            let values = args.prefix(count).compactMap { Double($0) }
            guard values.count == count, values.allSatisfy(\.isFinite) else {
                throw ParseError("\(name)=\(spec): expected \(count) numbers")
            }
            guard values[0] < values[1] else { throw ParseError("\(name)=\(spec): the low end must be below the high") }
            return values
        }
        let distribution: ParameterDistribution
        switch kind {
        case "uniform", "float":
            let v = try numbers(2)
            distribution = .uniform(v[0], v[1])
        case "loguniform", "log_uniform", "logfloat":
            let v = try numbers(2)
            guard v[0] > 0 else { throw ParseError("\(name)=\(spec): a log-uniform range must be above zero") }
            distribution = .logUniform(v[0], v[1])
        case "int", "randint", "intuniform":
            let log = args.count == 3 && args[2].lowercased() == "log"
            guard args.count == 2 || log, let lo = Int(args[0]), let hi = Int(args[1]), lo < hi else {
                throw ParseError(
                    "\(name)=\(spec): expected int(low, high) or int(low, high, log), whole numbers, low < high")
            }
            if log && lo < 1 { throw ParseError("\(name)=\(spec): a log range must be above zero") }
            distribution = .int(lo, hi, log: log)
        case "choice", "categorical":
            guard !args.isEmpty, Set(args).count == args.count, !args.contains("") else {
                throw ParseError("\(name)=\(spec): expected distinct values, choice(a, b, ...)")
            }
            distribution = .choice(args)
        default:
            throw ParseError("\(name)=\(spec): '\(kind)' is not one of uniform, loguniform, int, choice")
        }
        parameters.append((name, distribution))
    }

    /// The `tune:` block of a YAML file: its `space:` mapping (or, without one, the block's own
    /// `name: kind(args)` entries), and its other scalar entries (`trials: 30`, `metric: valid_auc`)
    /// as settings. Only mappings of scalars are read; comments are skipped.
    public static func parseYAML(
        _ text: String, file: String
    ) throws(ParseError) -> (space: SearchSpace, settings: [String: String]) {
        var space = SearchSpace([])
        var settings: [String: String] = [:]
        var inTune = false
        var tuneIndent = -1
        var spaceIndent: Int?
        var hasSpaceKey = false
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line =
                rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(
                    String.init) ?? ""
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let indent = line.prefix { $0 == " " }.count
            let body = line.trimmingCharacters(in: .whitespaces)
            guard let colon = body.firstIndex(of: ":") else {
                if inTune { throw ParseError("\(file):\(n + 1): expected 'name: kind(args)'") }
                continue
            }
            let key = String(body[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(body[body.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if !inTune {
                if key == "tune" && value.isEmpty {
                    inTune = true
                    tuneIndent = indent
                }
                continue
            }
            if indent <= tuneIndent { break }
            if let s = spaceIndent {
                if indent > s {
                    do { try space.add(key, value) } catch { throw ParseError("\(file):\(n + 1): \(error)") }
                    continue
                }
                spaceIndent = nil
            }
            if key == "space" && value.isEmpty {
                spaceIndent = indent
                hasSpaceKey = true
            } else if !hasSpaceKey && value.contains("(") {
                do { try space.add(key, value) } catch { throw ParseError("\(file):\(n + 1): \(error)") }
            } else if !value.isEmpty {
                settings[key] = value.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }
        }
        guard inTune else { throw ParseError("\(file): no 'tune:' block") }
        guard !space.parameters.isEmpty else { throw ParseError("\(file): the tune block declares no parameter") }
        return (space, settings)
    }
}
