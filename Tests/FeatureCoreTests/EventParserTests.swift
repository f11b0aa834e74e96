import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import Testing

@Suite struct EventParserTests {
    static let registry = try! RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml")
    let parser = EventParser(schema: registry.schema)
    let schema = registry.schema

    static let valid =
        #"{"event_id":"e_8d8c0d8e","event_ts":"2025-01-15T12:31:22.314Z","user_id":"u_10293","session_id":"s_9c1d","event_type":"page_view","product_id":"sku_12345","price":29.9,"currency":"EUR","device":{"mobile":false,"os":"Windows"},"geo":{"country":"DE","city":"Munich"}}"#

    func reason(_ line: String) -> String? {
        if case .failure(let e) = parser.parse(line) { return e.reason }
        return nil
    }

    func field(_ event: Event, _ name: String) -> FieldValue { event.values[schema.index(of: name)!] }

    @Test func parsesTheDesignDocumentsExample() throws {
        let e = try parser.parse(Self.valid).get()
        #expect(e.time == 1_736_944_282_314_000)
        #expect(field(e, "user_id") == .string("u_10293"))
        #expect(field(e, "event_type") == .string("page_view"))
        #expect(field(e, "price") == .number(29.9))
        #expect(field(e, "device.mobile") == .bool(false))
        #expect(field(e, "device.os") == .string("Windows"))
        #expect(field(e, "geo.city") == .string("Munich"))
        #expect(e.id(in: schema) == "e_8d8c0d8e")
    }

    @Test func optionalFieldsMayBeNullOrAbsentAndUnknownKeysAreSkipped() throws {
        let line =
            #"{"extra":{"deep":[1,{"x":[true,null,"s"]}],"n":-1.5e3},"event_id":"e1","event_ts":"2025-01-15T12:31:22Z","user_id":"u","session_id":"s","event_type":"purchase","product_id":"p","price":0,"device":null,"geo":{"country":null}}"#
        let e = try parser.parse(line).get()
        #expect(field(e, "device.os") == .missing)
        #expect(field(e, "geo.country") == .missing)
        #expect(field(e, "currency") == .missing)
        #expect(field(e, "price") == .number(0))
    }

    @Test func escapesAndUnicodeDecode() throws {
        let line = Self.valid.replacingOccurrences(
            of: #""city":"Munich""#, with: #""city":"M\u00fcnchen \"Mitte\" \ud83d\ude00""#)
        let e = try parser.parse(line).get()
        #expect(field(e, "geo.city") == .string("München \"Mitte\" 😀"))
        let raw = Self.valid.replacingOccurrences(of: "Munich", with: "Zürich")
        #expect(field(try parser.parse(raw).get(), "geo.city") == .string("Zürich"))
    }

    @Test(arguments: [
        (#""user_id":"u_10293","#, #""#, "missing field user_id"),
        (#""user_id":"u_10293""#, #""user_id":null"#, "user_id is null"),
        (#""user_id":"u_10293""#, #""user_id":"""#, "user_id is empty"),
        (#""user_id":"u_10293""#, #""user_id":10293"#, "user_id should be a string, found '1'"),
        (
            #""event_type":"page_view""#, #""event_type":"click""#,
            "event_type 'click' is not one of page_view, add_to_cart, purchase"
        ),
        (#""price":29.9"#, #""price":-1"#, "price is -1, below its minimum 0"),
        (#""price":29.9"#, #""price":"29.9""#, "price should be a number, found '\"'"),
        (#""price":29.9"#, #""price":1e400"#, "price is not a finite number"),
        (#""price":29.9"#, #""price":NaN"#, "price should be a number, found 'N'"),
        (#""price":29.9"#, #""price":01"#, "invalid JSON at byte 164: expected ',' or '}' but found '1'"),
        (
            #"2025-01-15T12:31:22.314Z"#, #"2025-01-15T12:31:22.314"#,
            "event_ts: timestamp has no zone (append Z for UTC, or an offset like +02:00)"
        ),
        (#"2025-01-15T12:31:22.314Z"#, #"2025-13-15T12:31:22Z"#, "event_ts: timestamp month out of range"),
        (
            #"2025-01-15T12:31:22.314Z"#, #"15/01/2025"#,
            "event_ts: not an RFC 3339 timestamp (use 2025-01-15T12:31:22.314Z or an offset like +02:00)"
        ),
        (#""mobile":false"#, #""mobile":"no""#, "device.mobile should be true or false, found '\"'"),
        (#""device":{"#, #""device":["#, "device: expected an object, found '['"),
        (#""event_id":"e_8d8c0d8e","#, #""event_id":"e_8d8c0d8e","event_id":"e2","#, "field event_id appears twice"),
    ])
    func eachFaultHasItsReason(old: String, new: String, expected: String) {
        let line = Self.valid.replacingOccurrences(of: old, with: new)
        #expect(line != Self.valid)
        #expect(reason(line) == expected)
    }

    @Test func idsLongerThan128BytesAreRejected() {
        let long = String(repeating: "u", count: 129)
        #expect(
            reason(Self.valid.replacingOccurrences(of: "u_10293", with: long))
                == "user_id is longer than 128 bytes (129)")
        #expect(reason(Self.valid.replacingOccurrences(of: "u_10293", with: String(long.dropFirst()))) == nil)
    }

    @Test func notJSONObjectsAndGarbageAreRejected() {
        #expect(reason("") == "empty line")
        #expect(reason("   ") == "empty line")
        #expect(reason("[1,2]") == "not a JSON object (the line starts with '[')")
        #expect(
            reason(Self.valid + "x") == "invalid JSON at byte \(Self.valid.utf8.count): unexpected 'x' after the object"
        )
        #expect(reason("{\"a\":") == "invalid JSON: the line ends inside a value")
    }

    @Test func deepNestingIsBoundedNotRecursedInto() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(reason(#"{"x":"# + deep + "}") == "nesting deeper than 64")
        let ok = String(repeating: "[", count: 50) + String(repeating: "]", count: 50)
        let line = Self.valid.replacingOccurrences(of: "{\"event_id\"", with: "{\"x\":\(ok),\"event_id\"")
        #expect(reason(line) == nil)
        #expect(reason(#"{"x":[1,2}"#)?.hasPrefix("invalid JSON") == true)
    }

    @Test func invalidUTF8IsRejected() {
        var bytes = Array(Self.valid.utf8)
        let at = bytes.firstIndex(of: UInt8(ascii: "M"))!
        bytes[at] = 0xC3  // a lead byte followed by an ASCII byte
        let result = bytes.withUnsafeBytes { parser.parse($0) }
        #expect(result == .failure(EventError("geo.city: invalid UTF-8")))
    }

    @Test func everyTruncationOfAValidLineIsAnErrorNotATrap() {
        let bytes = Array(Self.valid.utf8)
        for n in 0..<bytes.count {
            let result = Array(bytes[0..<n]).withUnsafeBytes { parser.parse($0) }
            if case .success = result { Issue.record("prefix of \(n) bytes parsed") }
        }
    }

    @Test func randomBytesAndMutationsNeverTrap() {
        var rng = SeededRandom(seed: 99)
        let base = Array(Self.valid.utf8)
        var parsed = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<rng.below(300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                bytes = base
                for _ in 0..<(1 + rng.below(4)) {
                    let i = rng.below(bytes.count)
                    switch rng.below(3) {
                    case 0: bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: bytes.remove(at: i)
                    default:
                        let structural = Array("{}[]\",:\\0e-.".utf8)
                        bytes.insert(structural[rng.below(structural.count)], at: i)
                    }
                }
            }
            if case .success = bytes.withUnsafeBytes({ parser.parse($0) }) { parsed += 1 }
        }
        // Some mutations keep the line valid (a changed letter inside an id); none trapped.
        #expect(parsed < 20_000)
    }

    @Test func hugeNumbersParseExactlyOrFail() throws {
        let e = try parser.parse(Self.valid.replacingOccurrences(of: "29.9", with: "123456789012345678901234567890"))
            .get()
        #expect(field(e, "price") == .number(1.2345678901234568e29))
        let tiny = try parser.parse(Self.valid.replacingOccurrences(of: "29.9", with: "0.000000000000000000001")).get()
        #expect(field(tiny, "price") == .number(1e-21))
        let precise = try parser.parse(
            Self.valid.replacingOccurrences(of: "29.9", with: "0.1000000000000000055511151231257827")
        ).get()
        #expect(field(precise, "price") == .number(0.1))
    }
}
