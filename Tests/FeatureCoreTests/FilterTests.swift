import FeatureCore
import FsmlCore
import FsmlTestSupport
import Testing

/// The filter grammar of docs/semantics.md: comparisons, `in`, `not`, `and` over `or`,
/// parentheses, and missing fields, which satisfy no comparison.
@Suite struct FilterTests {
    static let registry = EventFactory.referenceRegistry()

    static func filter(_ text: String) throws -> Filter { try FilterParser.parse(text, schema: registry.schema) }

    /// Events with a price, a type, a country (or none) and a mobile flag (or none).
    static func event(
        type: String = "page_view", price: Double = 10, country: String? = "DE", mobile: Bool? = nil
    ) throws -> Event {
        var fields = "\"event_id\":\"e\",\"event_ts\":\"2025-01-15T12:00:00Z\",\"user_id\":\"u\",\"session_id\":\"s\","
        fields += "\"event_type\":\"\(type)\",\"product_id\":\"p\",\"price\":\(price)"
        var geo: [String] = []
        if let country { geo.append("\"country\":\"\(country)\"") }
        fields += ",\"geo\":{\(geo.joined(separator: ","))}"
        if let mobile { fields += ",\"device\":{\"mobile\":\(mobile)}" }
        let line = Array("{\(fields)}".utf8)
        return try line.withUnsafeBytes { EventParser(schema: registry.schema).parse($0) }.get()
    }

    @Test func comparisonsOnNumbersStringsAndBooleans() throws {
        let e = try Self.event(type: "purchase", price: 10, mobile: true)
        let holds: [String: Bool] = [
            "price == 10": true, "price != 10": false, "price < 10": false, "price <= 10": true, "price > 9.5": true,
            "price >= 10.01": false, "event_type == purchase": true, "event_type != purchase": false,
            "event_type < page_view": false, "event_type > page_view": true, "geo.country == 'DE'": true,
            "device.mobile == true": true, "device.mobile != true": false,
        ]
        for (text, want) in holds { #expect(try Self.filter(text).matches(e) == want, "\(text)") }
    }

    @Test func inListsAndTheirMisses() throws {
        let e = try Self.event(type: "add_to_cart", country: "FR")
        #expect(try Self.filter("event_type in [add_to_cart, purchase]").matches(e))
        #expect(try !Self.filter("event_type in [page_view]").matches(e))
        #expect(try Self.filter("geo.country in ['DE', \"FR\"]").matches(e))
        #expect(try Self.filter("price in [1, 10, 100]").matches(e))
    }

    /// `not` binds tightest, then `and`, then `or`; parentheses regroup.
    @Test func precedenceIsNotThenAndThenOr() throws {
        let e = try Self.event(type: "page_view", price: 5)
        // (a or (b and c)) with a true, b false: true; ((a or b) and c) with c false: false.
        #expect(try Self.filter("price < 10 or event_type == purchase and price > 100").matches(e))
        #expect(try !Self.filter("(price < 10 or event_type == purchase) and price > 100").matches(e))
        // not a and b is (not a) and b.
        #expect(try !Self.filter("not price < 10 and price < 100").matches(e))
        #expect(try Self.filter("not (price > 10 and price < 100)").matches(e))
        #expect(try Self.filter("not not price == 5").matches(e))
        // Printing gives text that parses back to the same filter.
        for text in [
            "price < 10 or event_type == purchase and price > 100", "not (price > 10 and price < 100)",
            "(price < 10 or price > 50) and not geo.country in [DE, FR]",
        ] {
            let f = try Self.filter(text)
            #expect(try Self.filter(f.description) == f, "\(f)")
        }
    }

    /// A missing field satisfies no comparison: not ==, not !=, not in; `not` of one is true.
    @Test func aMissingFieldSatisfiesNoComparison() throws {
        let e = try Self.event(country: nil, mobile: nil)
        for text in [
            "geo.country == DE", "geo.country != DE", "geo.country in [DE, FR]", "device.mobile == true",
            "device.mobile != true", "geo.country < ZZ",
        ] {
            #expect(try !Self.filter(text).matches(e), "\(text)")
        }
        #expect(try Self.filter("not geo.country == DE").matches(e))
        #expect(try Self.filter("geo.country == DE or price == 10").matches(e))
    }

    @Test func badFiltersAreClearErrors() throws {
        let cases: [String: String] = [
            "": "empty filter", "nope == 1": "unknown field 'nope'", "price ~ 1": "expected a comparison",
            "price =< 1": "unknown operator '='",
            "price ==": "filter ends too early", "price == abc": "'abc' is not a number",
            "event_type == refund": "'refund' is not a value of event_type", "(price == 1": "expected ')'",
            "device.mobile < true": "does not apply to the boolean field", "price == 1 price": "unexpected 'price'",
            "event_ts == 1": "timestamp field", "geo.country == 'DE": "unterminated string",
            "price in [1 2]": "expected ',' or ']'",
        ]
        for (text, message) in cases {
            do {
                _ = try FilterParser.parse(text, schema: Self.registry.schema)
                Issue.record("'\(text)' parsed")
            } catch {
                #expect(error.message.contains(message), "'\(text)': \(error.message)")
            }
        }
    }
}
