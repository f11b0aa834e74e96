import Foundation
import FsmlCore

/// Turns one line of JSON into a validated `Event`, or says exactly why it cannot: JSON syntax,
/// a missing or null required field, a wrong type, a bad timestamp, a value out of its declared
/// range or set, an id that is empty or too long, invalid UTF-8, nesting too deep.
///
/// It scans the bytes once, matching keys against the schema as it goes; unknown keys are skipped.
/// No input traps it: every index is checked and nesting is bounded. The schema is flattened into
/// arrays of plain values up front, so the hot path copies no strings or structures.
public final class EventParser: Sendable {
    public let schema: EventSchema
    public static let maxDepth = 64

    private let root: KeyTable
    private let names: [String]
    private let types: [FieldType]
    private let optional: [Bool]
    private let maxLength: [Int]
    private let minimum: [Double]
    private let maximum: [Double]
    /// Allowed values per field, as bytes, with the String to reuse when one matches.
    private let allowedBytes: [[[UInt8]]]
    private let allowedStrings: [[String]]
    private let requiredFields: [Int]
    private let timeField: Int

    public init(schema: EventSchema) {
        self.schema = schema
        root = KeyTable(paths: schema.fields.enumerated().map { ($0.element.path, $0.offset) })
        names = schema.fields.map(\.name)
        types = schema.fields.map(\.type)
        optional = schema.fields.map(\.optional)
        maxLength = schema.fields.map(\.maxLength)
        minimum = schema.fields.map { $0.min ?? -.infinity }
        maximum = schema.fields.map { $0.max ?? .infinity }
        allowedBytes = schema.fields.map { ($0.values ?? []).map { Array($0.utf8) } }
        allowedStrings = schema.fields.map { $0.values ?? [] }
        requiredFields = schema.fields.indices.filter { !schema.fields[$0].optional }
        timeField = schema.timeField
    }

    public func parse(_ line: UnsafeRawBufferPointer) -> Result<Event, EventError> {
        var scanner = Scanner(p: line)
        var values = [FieldValue](repeating: .missing, count: names.count)
        var time: Micros = 0
        var scratch: [UInt8] = []
        do throws(EventError) {
            scanner.skipWhitespace()
            guard scanner.i < line.count else { throw EventError("empty line") }
            guard scanner.peek == UInt8(ascii: "{") else {
                throw EventError("not a JSON object (the line starts with \(scanner.describeHere()))")
            }
            try parseObject(&scanner, table: root, values: &values, time: &time, scratch: &scratch, depth: 1)
            scanner.skipWhitespace()
            guard scanner.i == line.count else {
                throw EventError(
                    "invalid JSON at byte \(scanner.i): unexpected \(scanner.describeHere()) after the object")
            }
        } catch {
            return .failure(error)
        }
        for f in requiredFields {
            if case .missing = values[f] { return .failure(EventError("missing field \(names[f])")) }
        }
        return .success(Event(time: time, values: values))
    }

    public func parse(_ line: String) -> Result<Event, EventError> {
        var copy = line
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    private func parseObject(
        _ s: inout Scanner, table: KeyTable, values: inout [FieldValue], time: inout Micros, scratch: inout [UInt8],
        depth: Int
    ) throws(EventError) {
        try s.expect(UInt8(ascii: "{"))
        s.skipWhitespace()
        if s.peek == UInt8(ascii: "}") {
            s.i += 1
            return
        }
        var hint = 0
        while true {
            s.skipWhitespace()
            guard s.peek == UInt8(ascii: "\"") else {
                throw EventError(
                    "invalid JSON at byte \(s.i): expected a key in double quotes but found \(s.describeHere())")
            }
            let keyToken = try s.scanString(field: "key")
            let target: KeyTable.Target?
            if let raw = try s.bytes(of: keyToken, field: "key", scratch: &scratch) {
                target = table.lookup(raw, hint: &hint)
            } else {
                target = scratch.withUnsafeBytes { table.lookup($0, hint: &hint) }
            }
            s.skipWhitespace()
            try s.expect(UInt8(ascii: ":"))
            s.skipWhitespace()
            switch target {
            case nil:
                try s.skipValue(depth: depth)
            case .object(let sub)?:
                if s.peek == UInt8(ascii: "{") {
                    guard depth < EventParser.maxDepth else {
                        throw EventError("nesting deeper than \(EventParser.maxDepth)")
                    }
                    try parseObject(&s, table: sub, values: &values, time: &time, scratch: &scratch, depth: depth + 1)
                } else if s.consumeLiteral("null") {
                    // an absent object: its fields stay missing
                } else {
                    throw EventError("\(sub.name): expected an object, found \(s.describeHere())")
                }
            case .field(let f)?:
                if case .missing = values[f] {
                } else {
                    throw EventError("field \(names[f]) appears twice")
                }
                values[f] = try parseValue(&s, field: f, time: &time, scratch: &scratch)
            }
            s.skipWhitespace()
            guard let c = s.peek else { throw EventError("invalid JSON: the line ends inside an object") }
            s.i += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else {
                throw EventError(
                    "invalid JSON at byte \(s.i - 1): expected ',' or '}' but found \(Scanner.describe(c))")
            }
        }
    }

    private func parseValue(
        _ s: inout Scanner, field f: Int, time: inout Micros, scratch: inout [UInt8]
    ) throws(EventError) -> FieldValue {
        if s.consumeLiteral("null") {
            if !optional[f] { throw EventError("\(names[f]) is null") }
            return .missing
        }
        switch types[f] {
        case .string:
            guard s.peek == UInt8(ascii: "\"") else { throw typeError(f, s) }
            let token = try s.scanString(field: names[f])
            if let raw = try s.bytes(of: token, field: names[f], scratch: &scratch) {
                return .string(try checkedString(raw, field: f))
            }
            let decoded = scratch.withUnsafeBytes { buf in
                Result { () throws(EventError) in try checkedString(buf, field: f) }
            }
            return .string(try decoded.get())
        case .timestamp:
            guard s.peek == UInt8(ascii: "\"") else { throw typeError(f, s) }
            let token = try s.scanString(field: names[f])
            let parsed: Result<Micros, TimestampError>
            if let raw = try s.bytes(of: token, field: names[f], scratch: &scratch) {
                parsed = Timestamp.parse(raw)
            } else {
                parsed = scratch.withUnsafeBytes { Timestamp.parse($0) }
            }
            switch parsed {
            case .success(let t):
                if f == timeField { time = t }
                return .number(Double(t))
            case .failure(let e):
                throw EventError("\(names[f]): \(e)")
            }
        case .int, .float:
            guard let (x, next) = DecimalNumber.parse(s.p, at: s.i) else { throw typeError(f, s) }
            s.i = next
            guard x.isFinite else { throw EventError("\(names[f]) is not a finite number") }
            if types[f] == .int {
                guard x == x.rounded(), abs(x) < 9.007_199_254_740_992e15 else {
                    throw EventError("\(names[f]) is not a whole number")
                }
            }
            if x < minimum[f] {
                throw EventError(
                    "\(names[f]) is \(JSONText.number(x)), below its minimum \(JSONText.number(minimum[f]))")
            }
            if x > maximum[f] {
                throw EventError(
                    "\(names[f]) is \(JSONText.number(x)), above its maximum \(JSONText.number(maximum[f]))")
            }
            return .number(x)
        case .bool:
            if s.consumeLiteral("true") { return .bool(true) }
            if s.consumeLiteral("false") { return .bool(false) }
            throw typeError(f, s)
        }
    }

    /// Length and value-set checks; reuses the declared String when the field is an enumeration.
    @inline(__always)
    private func checkedString(_ bytes: UnsafeRawBufferPointer, field f: Int) throws(EventError) -> String {
        guard bytes.count > 0 else { throw EventError("\(names[f]) is empty") }
        guard bytes.count <= maxLength[f] else {
            throw EventError("\(names[f]) is longer than \(maxLength[f]) bytes (\(bytes.count))")
        }
        let allowed = allowedBytes[f]
        if allowed.isEmpty { return String(decoding: bytes, as: UTF8.self) }
        for (k, candidate) in allowed.enumerated() where candidate.count == bytes.count {
            if candidate.withUnsafeBytes({ memcmpEqual($0, bytes) }) { return allowedStrings[f][k] }
        }
        throw EventError(
            "\(names[f]) '\(String(decoding: bytes.prefix(40), as: UTF8.self))' is not one of \(allowedStrings[f].joined(separator: ", "))"
        )
    }

    private func typeError(_ f: Int, _ s: Scanner) -> EventError {
        let expected: String
        switch types[f] {
        case .string: expected = "a string"
        case .timestamp: expected = "an ISO-8601 timestamp string"
        case .int: expected = "a whole number"
        case .float: expected = "a number"
        case .bool: expected = "true or false"
        }
        return EventError("\(names[f]) should be \(expected), found \(s.describeHere())")
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

/// The schema's field paths as nested key tables, one per JSON object level.
final class KeyTable: Sendable {
    enum Target: Sendable {
        case field(Int)
        case object(KeyTable)
    }

    let name: String
    let keys: [[UInt8]]
    let targets: [Target]

    init(paths: [([String], Int)], name: String = "") {
        self.name = name
        var keys: [[UInt8]] = []
        var targets: [Target] = []
        var seen: [String] = []
        for (path, field) in paths where !seen.contains(path[0]) {
            seen.append(path[0])
            keys.append(Array(path[0].utf8))
            if path.count == 1 {
                targets.append(.field(field))
            } else {
                let nested = paths.filter { $0.0.count > 1 && $0.0[0] == path[0] }.map {
                    (Array($0.0.dropFirst()), $0.1)
                }
                targets.append(.object(KeyTable(paths: nested, name: name.isEmpty ? path[0] : "\(name).\(path[0])")))
            }
        }
        self.keys = keys
        self.targets = targets
    }

    /// Keys usually come in the same order line after line, so the search starts after the last hit.
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, hint: inout Int) -> Target? {
        let n = keys.count
        var k = hint
        for _ in 0..<n {
            if k >= n { k = 0 }
            if keys[k].count == key.count && keys[k].withUnsafeBytes({ memcmpEqual($0, key) }) {
                hint = k + 1
                return targets[k]
            }
            k += 1
        }
        return nil
    }
}
