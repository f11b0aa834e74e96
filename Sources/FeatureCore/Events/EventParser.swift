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

    /// What a value must be, per field: plain values, so reading one copies no reference.
    private struct Rule {
        var type: FieldType
        var optional: Bool
        var maxLength: Int
        var minimum: Double
        var maximum: Double
        var isTime: Bool
    }

    private let root: KeyTable
    private let names: [String]
    private let rules: [Rule]
    /// Allowed values per field (none: any string), with the String to reuse when one matches.
    private let allowed: [ByteKeys]
    private let allowedStrings: [[String]]
    private let requiredFields: [Int]
    private let smallStrings = SmallASCIIString.isAvailable

    public init(schema: EventSchema) {
        self.schema = schema
        root = KeyTable(paths: schema.fields.enumerated().map { ($0.element.path, $0.offset) })
        names = schema.fields.map(\.name)
        rules = schema.fields.enumerated().map { f, spec in
            Rule(
                type: spec.type, optional: spec.optional, maxLength: spec.maxLength, minimum: spec.min ?? -.infinity,
                maximum: spec.max ?? .infinity, isTime: f == schema.timeField)
        }
        allowed = schema.fields.map { ByteKeys(($0.values ?? []).map { Array($0.utf8) }) }
        allowedStrings = schema.fields.map { $0.values ?? [] }
        requiredFields = schema.fields.indices.filter { !schema.fields[$0].optional }
    }

    /// One line's parse in progress: the cursor, the values found so far (in the event's own
    /// array, written without copy-on-write checks), the event time and room to unescape strings.
    private struct LineParse {
        var s: Scanner
        let values: UnsafeMutableBufferPointer<FieldValue>
        var time: Micros = 0
        var scratch: [UInt8] = []
    }

    public func parse(_ line: UnsafeRawBufferPointer) -> Result<Event, EventError> {
        var event = Event(time: 0, values: [])
        if let error = parse(line, into: &event) { return .failure(error) }
        return .success(event)
    }

    /// Parses `line` into `event`, reusing the storage of its values when nothing else holds it:
    /// a caller that parses batch after batch into the same events allocates an array per event
    /// once, not per line. After a failure `event` holds nothing meaningful.
    public func parse(_ line: UnsafeRawBufferPointer, into event: inout Event) -> EventError? {
        let reused = event.values.count == names.count
        if !reused { event.values = [FieldValue](repeating: .missing, count: names.count) }
        var time: Micros = 0
        let failure = event.values.withUnsafeMutableBufferPointer { buffer -> EventError? in
            if reused { buffer.update(repeating: .missing) }
            var progress = LineParse(s: Scanner(p: line), values: buffer)
            do throws(EventError) {
                try parseLine(&progress)
            } catch {
                return error
            }
            time = progress.time
            return nil
        }
        if let failure { return failure }
        for f in requiredFields {
            if case .missing = event.values[f] { return EventError("missing field \(names[f])") }
        }
        event.time = time
        return nil
    }

    private func parseLine(_ line: inout LineParse) throws(EventError) {
        line.s.skipWhitespace()
        guard line.s.i < line.s.p.count else { throw EventError("empty line") }
        guard line.s.peek == UInt8(ascii: "{") else {
            throw EventError("not a JSON object (the line starts with \(line.s.describeHere()))")
        }
        try parseObject(&line, table: root, depth: 1)
        line.s.skipWhitespace()
        guard line.s.i == line.s.p.count else {
            throw EventError("invalid JSON at byte \(line.s.i): unexpected \(line.s.describeHere()) after the object")
        }
    }

    public func parse(_ line: String) -> Result<Event, EventError> {
        var copy = line
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    private func parseObject(_ line: inout LineParse, table: KeyTable, depth: Int) throws(EventError) {
        try line.s.expect(UInt8(ascii: "{"))
        line.s.skipWhitespace()
        if line.s.peek == UInt8(ascii: "}") {
            line.s.i += 1
            return
        }
        var hint = 0
        while true {
            line.s.skipWhitespace()
            guard line.s.peek == UInt8(ascii: "\"") else {
                throw EventError(
                    "invalid JSON at byte \(line.s.i): expected a key in double quotes but found \(line.s.describeHere())"
                )
            }
            let target: KeyTable.Target?
            if let expected = table.expected(&line.s, hint: &hint) {
                target = expected
            } else {
                let keyToken = try line.s.scanString(field: "key")
                if let raw = try line.s.bytes(of: keyToken, field: "key", scratch: &line.scratch) {
                    target = table.lookup(raw, readable: line.s.p.count - keyToken.start, hint: &hint)
                } else {
                    target = line.scratch.withUnsafeBytes { table.lookup($0, readable: $0.count, hint: &hint) }
                }
                line.s.skipWhitespace()
                try line.s.expect(UInt8(ascii: ":"))
            }
            line.s.skipWhitespace()
            switch target {
            case nil:
                try line.s.skipValue(depth: depth)
            case .object(let sub)?:
                if line.s.peek == UInt8(ascii: "{") {
                    guard depth < EventParser.maxDepth else {
                        throw EventError("nesting deeper than \(EventParser.maxDepth)")
                    }
                    try parseObject(&line, table: sub, depth: depth + 1)
                } else if line.s.peek == UInt8(ascii: "n") && line.s.consumeLiteral("null") {
                    // an absent object: its fields stay missing
                } else {
                    throw EventError("\(sub.name): expected an object, found \(line.s.describeHere())")
                }
            case .field(let f)?:
                if case .missing = line.values[f] {
                } else {
                    throw EventError("field \(names[f]) appears twice")
                }
                line.values[f] = try parseValue(&line, field: f)
            }
            line.s.skipWhitespace()
            guard let c = line.s.peek else { throw EventError("invalid JSON: the line ends inside an object") }
            line.s.i += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else {
                throw EventError(
                    "invalid JSON at byte \(line.s.i - 1): expected ',' or '}' but found \(Scanner.describe(c))")
            }
        }
    }

    @inline(__always)
    private func parseValue(_ line: inout LineParse, field f: Int) throws(EventError) -> FieldValue {
        let rule = rules[f]
        if line.s.peek == UInt8(ascii: "n") && line.s.consumeLiteral("null") {
            if !rule.optional { throw EventError("\(names[f]) is null") }
            return .missing
        }
        switch rule.type {
        case .string:
            guard line.s.peek == UInt8(ascii: "\"") else { throw typeError(f, line.s) }
            let token = try line.s.scanString(field: names[f])
            if let raw = try line.s.bytes(of: token, field: names[f], scratch: &line.scratch) {
                return .string(
                    try checkedString(raw, readable: line.s.p.count - token.start, ascii: !token.nonASCII, field: f))
            }
            return .string(try checkedScratch(line.scratch, field: f))
        case .timestamp:
            guard line.s.peek == UInt8(ascii: "\"") else { throw typeError(f, line.s) }
            let token = try line.s.scanString(field: names[f])
            let parsed: Result<Micros, TimestampError>
            if let raw = try line.s.bytes(of: token, field: names[f], scratch: &line.scratch) {
                parsed = Timestamp.parse(raw)
            } else {
                parsed = line.scratch.withUnsafeBytes { Timestamp.parse($0) }
            }
            switch parsed {
            case .success(let t):
                if rule.isTime { line.time = t }
                return .number(Double(t))
            case .failure(let e):
                throw EventError("\(names[f]): \(e)")
            }
        case .int, .float:
            guard let (x, next) = DecimalNumber.parse(line.s.p, at: line.s.i) else { throw typeError(f, line.s) }
            line.s.i = next
            guard x.isFinite else { throw EventError("\(names[f]) is not a finite number") }
            if rule.type == .int {
                guard x == x.rounded(), abs(x) < 9.007_199_254_740_992e15 else {
                    throw EventError("\(names[f]) is not a whole number")
                }
            }
            if x < rule.minimum {
                throw EventError(
                    "\(names[f]) is \(JSONText.number(x)), below its minimum \(JSONText.number(rule.minimum))")
            }
            if x > rule.maximum {
                throw EventError(
                    "\(names[f]) is \(JSONText.number(x)), above its maximum \(JSONText.number(rule.maximum))")
            }
            return .number(x)
        case .bool:
            if line.s.consumeLiteral("true") { return .bool(true) }
            if line.s.consumeLiteral("false") { return .bool(false) }
            throw typeError(f, line.s)
        }
    }

    /// Length and value-set checks; reuses the declared String when the field is an enumeration.
    /// `readable` bytes may be read from the start of `bytes` (see `ByteKeys.find`); `ascii` says
    /// that they are all ASCII.
    @inline(__always)
    private func checkedString(
        _ bytes: UnsafeRawBufferPointer, readable: Int, ascii: Bool, field f: Int
    ) throws(EventError) -> String {
        guard bytes.count > 0 else { throw EventError("\(names[f]) is empty") }
        let maxLength = rules[f].maxLength
        guard bytes.count <= maxLength else {
            throw EventError("\(names[f]) is longer than \(maxLength) bytes (\(bytes.count))")
        }
        let choices = allowed[f]
        if choices.count == 0 {
            return SmallASCIIString.make(bytes, readable: readable, available: ascii && smallStrings)
                ?? String(decoding: bytes, as: UTF8.self)
        }
        if let k = choices.find(bytes, readable: readable, hint: 0) { return allowedStrings[f][k] }
        throw EventError(
            "\(names[f]) '\(String(decoding: bytes.prefix(40), as: UTF8.self))' is not one of \(allowedStrings[f].joined(separator: ", "))"
        )
    }

    /// `checkedString` of an unescaped string (`withUnsafeBytes` does not carry a typed error).
    private func checkedScratch(_ scratch: [UInt8], field f: Int) throws(EventError) -> String {
        let checked = scratch.withUnsafeBytes { buf in
            Result { () throws(EventError) in try checkedString(buf, readable: buf.count, ascii: false, field: f) }
        }
        return try checked.get()
    }

    private func typeError(_ f: Int, _ s: Scanner) -> EventError {
        let expected: String
        switch rules[f].type {
        case .string: expected = "a string"
        case .timestamp: expected = "an ISO-8601 timestamp string"
        case .int: expected = "a whole number"
        case .float: expected = "a number"
        case .bool: expected = "true or false"
        }
        return EventError("\(names[f]) should be \(expected), found \(s.describeHere())")
    }
}
