import FeatureCore
import Foundation

/// The slow, obviously correct answer to "what is feature f of entity k as of t": parse the raw
/// event lines, admit them, and scan every admitted event of the entity for every query.
///
/// It shares no code with the engine beyond the parsed definitions (`FeatureRegistry`, whose
/// filters and operations it reads as data): it parses JSON with Foundation, reads timestamps,
/// decides lateness and duplicates, joins entity keys, evaluates filters, hashes tie-breaks and
/// computes every operation with code of its own, written again from docs/semantics.md. A bug in
/// the engine's parser, admission, keys or filters shows up here as a mismatch.
public struct FeatureOracle {
    public enum Value: Hashable {
        case string(String)
        case number(Double)
        case bool(Bool)
    }

    /// An admitted event: its fields by dotted name (absent when missing).
    public struct Row {
        public let id: String
        public let time: Int64
        public let knownAt: Int64
        public let fields: [String: Value]
    }

    public let registry: FeatureRegistry
    /// Admitted events in arrival order.
    public private(set) var rows: [Row] = []
    public private(set) var late = 0
    public private(set) var duplicates = 0
    /// Arrival positions of each entity's events, per entity kind.
    private var byEntity: [[String: [Int]]]
    /// Arrival position of each admitted event id.
    private var byID: [String: Int] = [:]

    /// Admits `lines` (JSON events, in arrival order) by the rules of docs/semantics.md §1: the
    /// clock is the largest admitted event time; an event before clock − allowed_lateness is late;
    /// an id admitted before with a time not before that watermark is a duplicate; an admitted
    /// event is known at the clock after it. (The clock guard holds back only events far ahead of
    /// the clock, which the generated data does not have.)
    public init(registry: FeatureRegistry, lines: [[UInt8]]) throws {
        self.registry = registry
        byEntity = Array(repeating: [:], count: registry.entities.count)
        var clock = Int64.min
        var seen: [String: Int64] = [:]
        for line in lines {
            let row = try Self.parse(line, schema: registry.schema)
            let watermark = clock == .min ? Int64.min : clock - registry.allowedLateness
            if row.time < watermark {
                late += 1
                continue
            }
            if let previous = seen[row.id], previous >= watermark {
                duplicates += 1
                continue
            }
            seen[row.id] = row.time
            clock = max(clock, row.time)
            rows.append(Row(id: row.id, time: row.time, knownAt: clock, fields: row.fields))
        }
        for (i, row) in rows.enumerated() {
            byID[row.id] = i
            for (e, entity) in registry.entities.enumerated() {
                if let key = Self.key(row, fields: entity.keyFields.map { registry.schema.fields[$0].name }) {
                    byEntity[e][key, default: []].append(i)
                }
            }
        }
    }

    public var keys: [[String]] { byEntity.map { Array($0.keys).sorted() } }

    /// An admitted event as a request: the keys it names (by entity kind) and its fields.
    public func request(eventID: String) -> (keys: [Int: String], fields: [String: Value])? {
        guard let row = byID[eventID].map({ rows[$0] }) else { return nil }
        var keys: [Int: String] = [:]
        for (e, entity) in registry.entities.enumerated() {
            keys[e] = Self.key(row, fields: entity.keyFields.map { registry.schema.fields[$0].name })
        }
        return (keys, row.fields)
    }

    // MARK: parsing

    static func parse(_ line: [UInt8], schema: EventSchema) throws -> Row {
        guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw OracleError("not an object")
        }
        var flat: [String: Any] = [:]
        func flatten(_ o: [String: Any], prefix: String) {
            for (k, v) in o {
                if let inner = v as? [String: Any] {
                    flatten(inner, prefix: prefix + k + ".")
                } else {
                    flat[prefix + k] = v
                }
            }
        }
        flatten(object, prefix: "")
        var fields: [String: Value] = [:]
        for field in schema.fields {
            guard let raw = flat[field.name], !(raw is NSNull) else { continue }
            switch field.type {
            case .string:
                guard let s = raw as? String else { throw OracleError("\(field.name) is not a string") }
                fields[field.name] = .string(s)
            case .int, .float:
                guard let n = raw as? NSNumber else { throw OracleError("\(field.name) is not a number") }
                fields[field.name] = .number(n.doubleValue)
            case .bool:
                guard let n = raw as? NSNumber else { throw OracleError("\(field.name) is not a bool") }
                fields[field.name] = .bool(n.boolValue)
            case .timestamp:
                guard let s = raw as? String else { throw OracleError("\(field.name) is not a timestamp") }
                fields[field.name] = .number(Double(try micros(s)))
            }
        }
        let timeName = schema.fields[schema.timeField].name
        guard case .number(let t)? = fields[timeName],
            case .string(let id)? = fields[schema.fields[schema.idField].name]
        else { throw OracleError("no time or id") }
        return Row(id: id, time: Int64(t), knownAt: 0, fields: fields)
    }

    /// RFC 3339 (`2025-01-13T00:00:35.114Z`, or with an offset) to microseconds since 1970.
    static func micros(_ s: String) throws -> Int64 {
        let c = Array(s.utf8)
        func int(_ from: Int, _ count: Int) throws -> Int64 {
            guard from + count <= c.count else { throw OracleError("short timestamp \(s)") }
            var v: Int64 = 0
            for b in c[from..<(from + count)] {
                guard b >= 48 && b <= 57 else { throw OracleError("bad timestamp \(s)") }
                v = v * 10 + Int64(b - 48)
            }
            return v
        }
        let (y, mo, d) = (try int(0, 4), try int(5, 2), try int(8, 2))
        let (h, mi, se) = (try int(11, 2), try int(14, 2), try int(17, 2))
        var i = 19
        var fraction: Int64 = 0
        if i < c.count && c[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < c.count && c[i] >= 48 && c[i] <= 57 {
                if digits < 6 { fraction = fraction * 10 + Int64(c[i] - 48) }
                digits += 1
                i += 1
            }
            for _ in digits..<max(digits, 6) { fraction *= 10 }
        }
        var offset: Int64 = 0
        if i < c.count && (c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-")) {
            offset = (try int(i + 1, 2) * 60 + int(i + 4, 2)) * 60 * (c[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        // Days from 1970-01-01 by counting: years, then months.
        var days: Int64 = 0
        func leap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
        if y >= 1970 {
            for year in 1970..<y { days += leap(year) ? 366 : 365 }
        } else {
            for year in y..<1970 { days -= leap(year) ? 366 : 365 }
        }
        let monthDays: [Int64] = [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        for m in 0..<Int(mo - 1) { days += monthDays[m] }
        days += d - 1
        let seconds = ((days * 24 + h) * 60 + mi) * 60 + se - offset
        return seconds * 1_000_000 + fraction
    }

    /// Key values joined by ':', each with '%' and ':' escaped when there are several; a number
    /// as its integer text; nil when a key field is missing.
    static func key(_ row: Row, fields: [String]) -> String? {
        var parts: [String] = []
        for f in fields {
            switch row.fields[f] {
            case .string(let s)?: parts.append(s)
            case .number(let x)?: parts.append(String(Int64(x)))
            default: return nil
            }
        }
        if parts.count == 1 { return parts[0] }
        return parts.map {
            $0.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ":", with: "%3A")
        }.joined(separator: ":")
    }

    // MARK: which events

    /// The entity's events that the state as of t holds: those that arrived while the clock was
    /// before t (arrival order), and of those only the ones after the last TTL gap.
    public func life(entity e: Int, key: String, asOf t: Int64, eventTimeOnly: Bool = false) -> [Row] {
        let ttl = registry.entities[e].ttl
        var included = (byEntity[e][key] ?? []).map { rows[$0] }
        if eventTimeOnly {
            included = included.filter { $0.time < t }.sorted { $0.time < $1.time }
        } else {
            included = included.filter { $0.knownAt < t }
        }
        var current: [Row] = []
        var latest = Int64.min
        for r in included {
            if latest != .min && r.time - latest > ttl { current.removeAll() }
            current.append(r)
            latest = max(latest, r.time)
        }
        return current
    }

    /// The value the engine must give, exactly.
    public func value(feature f: Int, key: String, asOf t: Int64, eventTimeOnly: Bool = false) -> Double {
        expected(feature: f, key: key, asOf: t, eventTimeOnly: eventTimeOnly).value
    }

    /// The value with the tolerance its operation documents (zero for the exact ones).
    public func expected(feature f: Int, key: String, asOf t: Int64, eventTimeOnly: Bool = false) -> Expected {
        let spec = registry.features[f]
        if let d = spec.derived {
            // Each operand by its own rule; other entities and request fields are missing here.
            return .exactly(
                OracleExpression.evaluate(
                    d.expression,
                    feature: {
                        self.registry.features[$0].entity == spec.entity
                            ? self.expected(feature: $0, key: key, asOf: t, eventTimeOnly: eventTimeOnly).value : .nan
                    }, field: { _ in nil }, time: t))
        }
        let events = life(entity: spec.entity, key: key, asOf: t, eventTimeOnly: eventTimeOnly)
        guard let latest = events.map(\.time).max() else { return .exactly(.nan) }
        if t - latest > registry.entities[spec.entity].ttl { return .exactly(.nan) }
        return value(spec, events: events, asOf: t)
    }

    func matches(_ filter: Filter, _ row: Row) -> Bool {
        func value(_ v: FieldValue) -> Value? {
            switch v {
            case .string(let s): return .string(s)
            case .number(let x): return .number(x)
            case .bool(let b): return .bool(b)
            case .missing: return nil
            }
        }
        switch filter {
        case .compare(_, let name, let op, let literal):
            guard let a = row.fields[name], let b = value(literal) else { return false }
            switch (a, b) {
            case (.number(let x), .number(let y)): return compare(x, y, op)
            case (.string(let x), .string(let y)): return compare(x, y, op)
            case (.bool(let x), .bool(let y)): return op == .eq ? x == y : op == .ne ? x != y : false
            default: return false
            }
        case .isIn(_, let name, let literals):
            guard let a = row.fields[name] else { return false }
            return literals.contains { value($0) == a }
        case .and(let a, let b): return matches(a, row) && matches(b, row)
        case .or(let a, let b): return matches(a, row) || matches(b, row)
        case .not(let a): return !matches(a, row)
        }
    }

    func compare<T: Comparable>(_ x: T, _ y: T, _ op: CompareOp) -> Bool {
        switch op {
        case .eq: return x == y
        case .ne: return x != y
        case .lt: return x < y
        case .le: return x <= y
        case .gt: return x > y
        case .ge: return x >= y
        }
    }

    /// Every feature of entity kind `e` for one key, from one scan of its events. Derived
    /// features see this entity alone (no request fields, other entities missing).
    public func expectations(entity e: Int, key: String, asOf t: Int64) -> [(feature: Int, expected: Expected)] {
        let events = life(entity: e, key: key, asOf: t)
        let expired = events.map(\.time).max().map { t - $0 > registry.entities[e].ttl } ?? true
        var aggregates: [Int: Expected] = [:]
        func value(_ f: Int) -> Expected {
            if let v = aggregates[f] { return v }
            let v: Expected
            if let d = registry.features[f].derived {
                v = .exactly(
                    OracleExpression.evaluate(
                        d.expression, feature: { value($0).value }, field: { _ in nil }, time: t))
            } else if registry.features[f].entity != e || expired {
                v = .exactly(.nan)
            } else {
                v = aggregate(registry.features[f], events: events, asOf: t)
            }
            aggregates[f] = v
            return v
        }
        return registry.features.indices.filter { registry.features[$0].entity == e }.map { ($0, value($0)) }
    }

    /// A feature's value for one row: the keys of the entities it names (by entity kind) and the
    /// request fields (by name), as the server and a build evaluate it.
    public func value(
        feature f: Int, keys: [Int: String], fields: [String: Value], asOf t: Int64, eventTimeOnly: Bool = false
    ) -> Double {
        if let d = registry.features[f].derived {
            return OracleExpression.evaluate(
                d.expression,
                feature: { value(feature: $0, keys: keys, fields: fields, asOf: t, eventTimeOnly: eventTimeOnly) },
                field: { fields[$0] }, time: t)
        }
        let e = registry.features[f].entity
        guard let key = keys[e] else { return .nan }
        return expected(feature: f, key: key, asOf: t, eventTimeOnly: eventTimeOnly).value
    }

    private func value(_ spec: FeatureSpec, events all: [Row], asOf t: Int64) -> Expected {
        if let d = spec.derived {
            return .exactly(
                OracleExpression.evaluate(
                    d.expression, feature: { value(self.registry.features[$0], events: all, asOf: t).value },
                    field: { _ in nil }, time: t))
        }
        return aggregate(spec, events: all, asOf: t)
    }

    private func aggregate(_ spec: FeatureSpec, events all: [Row], asOf t: Int64) -> Expected {
        guard case .aggregate(let a) = spec.kind else { return .exactly(.nan) }
        var events = all.filter { $0.time < t }
        if let filter = a.filter { events = events.filter { matches(filter, $0) } }
        switch a.window {
        case .sliding(let w, let h):
            // [floor(t / h)·h − w, t)
            var start = t / h * h
            if t % h != 0 && t < 0 { start -= h }
            events = events.filter { $0.time >= start - w }
        case .decayed(let h):
            return OracleOperations.decayed(a.operation, events, halfLife: h, asOf: t, schema: registry.schema)
        case .session, .lifetime:
            break
        }
        return OracleOperations.value(a.operation, events, asOf: t, schema: registry.schema)
    }
}

/// An expected value and how far from it an answer may be: exact operations allow nothing, the
/// approximate ones their documented error bound.
public struct Expected: CustomStringConvertible {
    public let value: Double
    public let relative: Double
    public let absolute: Double

    public static func exactly(_ v: Double) -> Expected { Expected(value: v, relative: 0, absolute: 0) }

    public func admits(_ x: Double) -> Bool {
        if value.isNaN || x.isNaN { return value.isNaN && x.isNaN }
        if relative == 0 && absolute == 0 { return x == value }
        return abs(x - value) <= max(absolute, relative * abs(value))
    }

    public var description: String {
        relative == 0 && absolute == 0 ? "\(value)" : "\(value) ± max(\(absolute), \(relative)·|x|)"
    }
}

struct OracleError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// NaN equals NaN; otherwise exact equality. Parity is exact, so tests compare bits, not closeness.
public func sameValue(_ a: Double, _ b: Double) -> Bool {
    (a.isNaN && b.isNaN) || a == b
}
