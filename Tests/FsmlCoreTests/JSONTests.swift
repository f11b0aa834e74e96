import Foundation
import FsmlCore
import Testing

@Suite struct JSONTests {
    @Test func doublesRoundTripExactly() throws {
        var rng = SeededRandom(seed: 17)
        var values: [Double] = [
            0.036656585567172106, 0.1, 1e-300, -2.5e18, 123_456_789.000_000_01, .leastNonzeroMagnitude,
        ]
        values += (0..<2000).map { _ in (rng.uniform() - 0.5) * pow(10, Double(rng.below(40)) - 20) }
        let text = JSONText.render(.array(values.map { .number($0) }), indent: nil)
        let parsed = try JSONParser.parse(text)
        #expect(parsed.array!.map { $0.double! } == values)
    }

    @Test func objectsKeepOrderAndStringsUnescape() throws {
        let node = try JSONParser.parse(#"{"b": [1, true, null], "a": "x\n\u00e9\ud83d\ude00", "n": -0.0e+1}"#)
        #expect(node.object!.map(\.0) == ["b", "a", "n"])
        #expect(node["a"]?.string == "x\né😀")
        #expect(node["b"]?.array?.count == 3)
        #expect(node["n"]?.double == 0)
        #expect(try JSONParser.parse("12345678901234567").int == 12_345_678_901_234_567)
    }

    @Test func malformedTextIsAnErrorWithItsPlace() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"\\x\"", "[1] 2", String(repeating: "[", count: 600)] {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bad) }
        }
        do {
            _ = try JSONParser.parse("{\n  \"a\": ,\n}")
        } catch {
            #expect(error.description.hasPrefix("JSON line 2 column 8"))
        }
    }
}
