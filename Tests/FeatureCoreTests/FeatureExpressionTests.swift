import FeatureCore
import FsmlCore
import FsmlTestSupport
import Testing

/// Derived features' expressions by hand: values, missing values, division by zero, functions,
/// the evaluation time, and canonical text that parses back.
@Suite struct FeatureExpressionTests {
    static let registry = EventFactory.referenceRegistry()
    static let features = ["a": 0, "b": 1, "zero": 2, "none": 3]
    static let values: [Double] = [6, 1.5, 0, .nan]

    static func parse(_ text: String) throws -> FeatureExpression {
        try ExpressionParser.parse(text, schema: registry.schema) { features[$0] }
    }

    /// Evaluated with a = 6, b = 1.5, zero = 0, none missing; the request's price 20, no
    /// currency... and device.mobile true, at 2025-01-15T13:30:00Z (a Wednesday).
    static func value(_ text: String, fields: [String: FieldValue]? = nil) throws -> Double {
        let schema = registry.schema
        let given =
            fields ?? ["price": .number(20), "device.mobile": .bool(true), "event_type": .string("purchase")]
        let inputs = FeatureExpression.Inputs(
            feature: { values[$0] },
            field: { i in given[schema.fields[i].name] ?? .missing },
            time: try Timestamp.parse("2025-01-15T13:30:00Z").get())
        return try parse(text).evaluate(inputs)
    }

    @Test func arithmeticPrecedenceAndComparisons() throws {
        let cases: [String: Double] = [
            "a + b * 2": 9, "(a + b) * 2": 15, "a - b - 1": 3.5, "a / b / 2": 2, "-a + 1": -5, "--a": 6,
            "a > b": 1, "a <= b": 0, "a == 6": 1, "a != 6": 0, "price / a": 20.0 / 6, "device.mobile": 1,
            "device.mobile + true": 2, "1e3 + .5": 1000.5, "event_type == purchase": 1, "event_type != 'purchase'": 0,
        ]
        for (text, want) in cases { #expect(try Self.value(text) == want, "\(text)") }
    }

    @Test func missingValuesAndDivisionByZeroAreMissing() throws {
        for text in [
            "none + 1", "a / zero", "zero / zero", "none > 1", "log(zero)", "log(-1)", "log1p(-1)", "sqrt(-4)",
            "exp(1000)", "min(a, none)", "max(none, b)", "clamp(none, 0, 1)", "if(none, 1, 2)",
            "coalesce(none, none)", "currency == EUR", "a / (b - 1.5)",
        ] {
            #expect(try Self.value(text).isNaN, "\(text)")
        }
        // The request without fields: price and the string field are missing.
        #expect(try Self.value("price * 2", fields: [:]).isNaN)
        #expect(try Self.value("event_type == purchase", fields: [:]).isNaN)
    }

    @Test func functionsAndTime() throws {
        let cases: [String: Double] = [
            "coalesce(none, a)": 6, "coalesce(a, none)": 6, "coalesce(none, none, 0)": 0, "abs(-a)": 6,
            "min(a, b, 3)": 1.5, "max(a, b)": 6, "clamp(a, 0, 5)": 5, "clamp(b, 2, 5)": 2, "if(a > b, 1, 2)": 1,
            "if(zero, none, 7)": 7, "log1p(zero)": 0, "exp(zero)": 1, "sqrt(a * 6)": 6,
            "hour_of_day()": 13, "day_of_week()": 3, "log(a)": 1.791759469228055,
        ]
        for (text, want) in cases { #expect(try Self.value(text) == want, "\(text)") }
    }

    /// A category is the field's position in the list; another value, or none, is missing.
    @Test func categoriesByHand() throws {
        let text = #"category(event_type, "page_view", "purchase", 'add_to_cart')"#
        #expect(try Self.value(text) == 1)
        #expect(try Self.value(text, fields: ["event_type": .string("add_to_cart")]) == 2)
        #expect(try Self.value(text, fields: ["event_type": .string("refund")]).isNaN)
        #expect(try Self.value(text, fields: [:]).isNaN)
        let e = try Self.parse(text)
        let sum = try Self.parse("a + 1")
        #expect(e.isCategory && !sum.isCategory)
        #expect(e.description == #"category(event_type, "page_view", "purchase", "add_to_cart")"#)
        #expect(try Self.parse(e.description) == e)
    }

    @Test func canonicalTextParsesBackToTheSameExpression() throws {
        for text in [
            "a + b * 2", "(a + b) * 2", "a - (b - 1)", "a / (b / 2)", "-(a + b)", "(a > b) == 1",
            "coalesce(price / a, 0) * 2", "if(event_type == purchase, a, b)", "clamp(log1p(a), 0, 1)",
        ] {
            let e = try Self.parse(text)
            #expect(try Self.parse(e.description) == e, "\(text) → \(e)")
        }
        #expect(try Self.parse("(a+b)*2").description == "(a + b) * 2")
        #expect(try Self.parse("a - (b - 1)").description == "a - (b - 1)")
    }

    @Test func badExpressionsAreClearErrors() {
        let cases: [String: String] = [
            "": "empty expression", "a +": "ends too early", "nope * 2": "'nope' is not a feature or an event field",
            "user_id + 1": "'user_id' is a string field", "event_ts / 2": "'event_ts' is a timestamp",
            "foo(a)": "unknown function 'foo'", "log(a, b)": "log takes 1 argument, not 2",
            "min(a)": "min takes at least 2 arguments, not 1", "a < b < 3": "comparisons do not chain",
            "(a + b": "expected ')'", "a ~ b": "unexpected '~'", "'x' + 1": "can only be compared",
            "user_id > u": "compare it with == or !=", "a =< b": "unknown operator '='",
            "category(price, 'a')": "takes a string field first", "category(event_type, a)": "as texts",
            "category(event_type, 'a', 'a')": "twice", "category(event_type)": "at least one category",
        ]
        for (text, message) in cases {
            do {
                _ = try ExpressionParser.parse(text, schema: Self.registry.schema) { Self.features[$0] }
                Issue.record("'\(text)' parsed")
            } catch {
                #expect(error.message.contains(message), "'\(text)': \(error.message)")
            }
        }
    }
}
