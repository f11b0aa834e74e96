import FsmlCore
import Testing

/// JSON's escapes by hand: each of the simple ones, a surrogate pair, and every fault.
@Suite struct JSONEscapeTests {
    /// The bytes of the escape at the start of `text` and where it ends, or its fault.
    static func decode(_ text: String) -> Result<([UInt8], Int), JSONEscape.Failure> {
        Array(text.utf8).withUnsafeBytes { p in
            var out: [UInt8] = []
            do {
                let end = try JSONEscape.decode(p, at: 0, end: p.count, into: &out)
                return .success((out, end))
            } catch let fault as JSONEscape.Failure {
                return .failure(fault)
            } catch {
                preconditionFailure("JSONEscape throws only its Failure")
            }
        }
    }

    @Test func escapesByHand() throws {
        let cases: [(String, [UInt8])] = [
            (#"\""#, [34]), (#"\\"#, [92]), (#"\/"#, [47]), (#"\b"#, [8]), (#"\f"#, [12]), (#"\n"#, [10]),
            (#"\r"#, [13]), (#"\t"#, [9]), (#"\u00e9"#, [0xC3, 0xA9]), (#"\u20AC"#, [0xE2, 0x82, 0xAC]),
            (#"\ud83d\ude00"#, [0xF0, 0x9F, 0x98, 0x80]),
        ]
        for (text, want) in cases {
            let (got, end) = try Self.decode(text + "rest").get()
            #expect(got == want && end == text.utf8.count, "\(text)")
        }
    }

    @Test func faultsAreNamed() {
        let cases: [(String, JSONEscape.Failure)] = [
            (#"\u12"#, .truncated), (#"\u12G4"#, .invalidHex), (#"\ud83d"#, .unpairedSurrogate),
            (#"\ud83dx\u0041"#, .unpairedSurrogate), (#"\ud83d\u0041"#, .unpairedSurrogate),
            (#"\ude00"#, .unpairedSurrogate), (#"\x"#, .invalidEscape(UInt8(ascii: "x"))), (#"\"#, .truncated),
        ]
        for (text, fault) in cases {
            guard case .failure(let got) = Self.decode(text) else {
                Issue.record("\(text) decoded")
                continue
            }
            #expect(got == fault, "\(text)")
        }
        #expect(JSONEscape.Failure.invalidEscape(UInt8(ascii: "x")).description == #"invalid escape '\x' in a string"#)
    }
}
