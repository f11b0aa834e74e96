import FeatureConfig
import FeatureCore
import FsmlCore
import Testing

/// The parser's shortcuts against what they stand for. Keys in the expected order and spelled
/// plainly are matched without a scan, plain bytes of strings are skipped a word at a time, and a
/// parse into an existing event reuses its storage: each line here is also written so that no
/// shortcut applies (keys shuffled, spaced and escaped), or the expectation is spelled out by hand.
@Suite struct EventParserPathTests {
    static let registry = try! RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml")
    let parser = EventParser(schema: registry.schema)
    let schema = registry.schema

    /// The reference line as (key, raw JSON value) pairs, nested objects flattened by the writer.
    static let pairs: [(String, String)] = [
        ("event_id", #""e_8d8c0d8e11223344""#), ("event_ts", #""2025-01-15T12:31:22.314Z""#),
        ("user_id", #""u_10293""#), ("session_id", #""s_9c1d""#), ("event_type", #""add_to_cart""#),
        ("product_id", #""sku_12345""#), ("price", "29.9"), ("currency", #""EUR""#),
        ("device", #"{"mobile":false,"os":"Windows"}"#), ("geo", #"{"country":"DE","city":"Munich"}"#),
    ]

    static func line(_ pairs: [(String, String)], space: String = "") -> String {
        "{" + pairs.map { "\(space)\"\($0.0)\"\(space):\(space)\($0.1)\(space)" }.joined(separator: ",") + "}"
    }

    func parse(_ line: String) -> Result<Event, EventError> { parser.parse(line) }

    func field(_ event: Event, _ name: String) -> FieldValue { event.values[schema.index(of: name)!] }

    /// A key with every letter written as a \u escape: it must be decoded before it is looked up.
    static func escaped(_ key: String) -> String {
        key.unicodeScalars.map { c in
            c.properties.isAlphabetic ? "\\u00" + String(c.value, radix: 16) : String(c)
        }.joined()
    }

    @Test func keyOrderSpacingAndEscapesDoNotChangeTheEvent() throws {
        let canonical = try parse(Self.line(Self.pairs)).get()
        #expect(canonical.time == 1_736_944_282_314_000)
        #expect(field(canonical, "event_type") == .string("add_to_cart"))
        var random = SeededRandom(seed: 15)
        for round in 0..<300 {
            var pairs = Self.pairs
            if round % 3 != 0 { pairs.shuffle(using: &random) }
            pairs = pairs.map { key, value in (random.below(4) == 0 ? Self.escaped(key) : key, value) }
            let space = round % 5 == 0 ? " \t" : ""
            #expect(try parse(Self.line(pairs, space: space)).get() == canonical, "round \(round)")
        }
    }

    @Test func keysThatOnlyStartOrEndLikeAnExpectedKeyAreUnknown() throws {
        let canonical = try parse(Self.line(Self.pairs)).get()
        for key in ["user_i", "user_idx", "event_", "event_ids", "session_id2", "Event_id", "geo.city", ""] {
            var pairs = Self.pairs
            pairs.insert((key, "1"), at: 2)
            // An unknown key is skipped; a key that reads as another's is a duplicate.
            #expect(try parse(Self.line(pairs)).get() == canonical, "\(key)")
        }
        var pairs = Self.pairs
        pairs.insert(("user\\u005fid", #""u2""#), at: 3)
        #expect(parse(Self.line(pairs)) == .failure(EventError("field user_id appears twice")))
    }

    /// Strings of every length up to three words, with one byte that needs a look at each position:
    /// what it decodes to, or the error it causes, written out by hand.
    @Test func aSpecialByteAnywhereInAStringIsSeen() throws {
        func line(city: String) -> String { Self.line(Self.pairs.dropLast() + [("geo", #"{"city":"\#(city)"}"#)]) }
        func city(_ raw: String) -> Result<Event, EventError> { parse(line(city: raw)) }
        let cityAt = Array(line(city: "@").utf8).firstIndex(of: UInt8(ascii: "@"))!
        for length in 1...24 {
            for at in 0..<length {
                let before = String(repeating: "a", count: at)
                let after = String(repeating: "b", count: length - at - 1)
                #expect(field(try city(before + #"\""# + after).get(), "geo.city") == .string(before + "\"" + after))
                #expect(field(try city(before + #"\\"# + after).get(), "geo.city") == .string(before + "\\" + after))
                #expect(field(try city(before + "é" + after).get(), "geo.city") == .string(before + "é" + after))
                #expect(
                    city(before + "\u{01}" + after)
                        == .failure(EventError("geo.city: control character in a string at byte \(cityAt + at)")))
                #expect(city(before + "\"" + after).isFailure)
                var bytes = Array(line(city: before + "@" + after).utf8)
                bytes[cityAt + at] = 0xC3
                #expect(
                    bytes.withUnsafeBytes { parser.parse($0) } == .failure(EventError("geo.city: invalid UTF-8")))
            }
        }
    }

    @Test func enumeratedValuesMatchWholeValuesOnly() {
        let reason = "is not one of page_view, add_to_cart, purchase"
        for value in ["page_vie", "page_views", "Page_view", "purchase ", "add_to_cart_", "p", "page_view\\u0000"] {
            var pairs = Self.pairs
            pairs[4] = ("event_type", "\"\(value)\"")
            guard case .failure(let e) = parse(Self.line(pairs)) else {
                Issue.record("\(value) accepted")
                continue
            }
            #expect(e.reason.hasSuffix(reason), "\(value)")
        }
        var pairs = Self.pairs
        pairs[4] = ("event_type", #""p\u0061ge_view""#)
        #expect((try? parse(Self.line(pairs)).get()).map { field($0, "event_type") } == .string("page_view"))
        // The value last on the line, where a whole word cannot be loaded past it.
        let last =
            #"{"event_id":"e","event_ts":"2025-01-15T12:31:22Z","user_id":"u","session_id":"s","product_id":"p","#
            + #""price":1,"event_type":"purchase"}"#
        #expect((try? parse(last).get()).map { field($0, "event_type") } == .string("purchase"))
    }

    @Test func parsingIntoAnEventGivesWhatAFreshParseGives() {
        var random = SeededRandom(seed: 4)
        let base = Array(Self.line(Self.pairs).utf8)
        var event = Event(time: 7, values: [.number(1)])
        var kept: [(Event, [UInt8])] = []
        for round in 0..<2_000 {
            var bytes = base
            if round % 2 == 1 {
                let i = random.below(bytes.count)
                bytes[i] = Array(#"{}",:\0ax"#.utf8)[random.below(9)]
            }
            let error = bytes.withUnsafeBytes { parser.parse($0, into: &event) }
            let fresh = bytes.withUnsafeBytes { parser.parse($0) }
            switch fresh {
            case .success(let e): #expect(error == nil && event == e)
            case .failure(let e): #expect(error == e)
            }
            if round % 7 == 0 && error == nil { kept.append((event, bytes)) }
        }
        // Storage that something else held was left alone.
        for (held, bytes) in kept { #expect(bytes.withUnsafeBytes { parser.parse($0) } == .success(held)) }
        #expect(kept.count > 100)
    }
}

extension Result {
    fileprivate var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
