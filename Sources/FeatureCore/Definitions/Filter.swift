/// An event filter from fsml.yaml, such as `kind == refund` or
/// `kind in [refund, chargeback] and amount > 10`. Field names are resolved against the
/// schema when the filter is parsed, so evaluation is index lookups and comparisons.
///
/// A missing (null or absent) field value satisfies no comparison, neither `==` nor `!=`.
public indirect enum Filter: Sendable, Equatable, CustomStringConvertible {
    case compare(field: Int, name: String, op: CompareOp, value: FieldValue)
    case isIn(field: Int, name: String, values: [FieldValue])
    case and(Filter, Filter)
    case or(Filter, Filter)
    case not(Filter)

    public func matches(_ event: Event) -> Bool {
        switch self {
        case .compare(let field, _, let op, let value):
            return op.holds(event.values[field], value)
        case .isIn(let field, _, let values):
            let v = event.values[field]
            if case .missing = v { return false }
            return values.contains(v)
        case .and(let a, let b): return a.matches(event) && b.matches(event)
        case .or(let a, let b): return a.matches(event) || b.matches(event)
        case .not(let a): return !a.matches(event)
        }
    }

    /// Canonical text: parsing it gives the same filter; used in definition hashes and descriptions.
    public var description: String {
        switch self {
        case .compare(_, let name, let op, let value): return "\(name) \(op.rawValue) \(value.filterText)"
        case .isIn(_, let name, let values): return "\(name) in [\(values.map(\.filterText).joined(separator: ", "))]"
        case .and(let a, let b): return "\(a.parenthesized(inside: "and")) and \(b.parenthesized(inside: "and"))"
        case .or(let a, let b): return "\(a.parenthesized(inside: "or")) or \(b.parenthesized(inside: "or"))"
        case .not(let a): return "not \(a.parenthesized(inside: "not"))"
        }
    }

    private func parenthesized(inside op: String) -> String {
        switch (self, op) {
        case (.and, "and"), (.or, "or"), (.compare, _), (.isIn, _): return description
        default: return "(\(description))"
        }
    }
}

public enum CompareOp: String, Sendable, CaseIterable {
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="

    func holds(_ a: FieldValue, _ b: FieldValue) -> Bool {
        switch (a, b) {
        case (.missing, _), (_, .missing): return false
        case (.number(let x), .number(let y)):
            switch self {
            case .eq: return x == y
            case .ne: return x != y
            case .lt: return x < y
            case .le: return x <= y
            case .gt: return x > y
            case .ge: return x >= y
            }
        case (.string(let x), .string(let y)):
            switch self {
            case .eq: return x == y
            case .ne: return x != y
            case .lt: return x < y
            case .le: return x <= y
            case .gt: return x > y
            case .ge: return x >= y
            }
        case (.bool(let x), .bool(let y)):
            switch self {
            case .eq: return x == y
            case .ne: return x != y
            default: return false
            }
        default:
            return false
        }
    }
}

extension Filter {
    /// The fields a filter compares.
    public var fieldsRead: Set<Int> {
        switch self {
        case .compare(let field, _, _, _), .isIn(let field, _, _): return [field]
        case .and(let a, let b), .or(let a, let b): return a.fieldsRead.union(b.fieldsRead)
        case .not(let a): return a.fieldsRead
        }
    }
}
