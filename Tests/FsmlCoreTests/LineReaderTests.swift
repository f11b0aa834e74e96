import Foundation
import Testing

@testable import FsmlCore

@Suite struct LineReaderTests {
    static func file(_ bytes: [UInt8], gzip: Bool = false) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fsml-lr-\(UUID())\(gzip ? ".gz" : "")"
        )
        .path
        try FileSystem.writeAtomically(gzip ? try Gzip.compress(bytes, level: 1) : bytes, to: path)
        return path
    }

    static func lines(_ path: String, max: Int = .max) throws -> [(text: String, length: Int)] {
        let reader = try LineReader(path: path, maxLineBytes: max)
        var out: [(String, Int)] = []
        while let line = try reader.next() {
            out.append((String(decoding: line, as: UTF8.self), reader.lastLineLength))
        }
        return out
    }

    /// A line over the limit keeps its first kilobyte and its length; the lines around it are whole,
    /// whatever the chunks the bytes arrive in (a plain file, gzip members, one huge line).
    @Test(arguments: [false, true])
    func aLineOverTheLimitIsCutAndItsNeighboursAreWhole(gzip: Bool) throws {
        let long = String(repeating: "x", count: 5_000_000)
        let path = try Self.file(Array("first\n\(long)\nsecond\r\n\(long)".utf8), gzip: gzip)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let got = try Self.lines(path, max: 4096)
        #expect(
            got.map(\.text) == [
                "first", String(repeating: "x", count: 1024), "second", String(repeating: "x", count: 1024),
            ])
        #expect(got.map(\.length) == [5, 5_000_000, 6, 5_000_000])
        // With no limit, every line whole.
        #expect(try Self.lines(path).map(\.length) == [5, 5_000_000, 6, 5_000_000])
    }

    @Test func aByteOrderMarkOpeningTheFileIsSkipped() throws {
        let path = try Self.file([0xEF, 0xBB, 0xBF] + Array("{\"a\":1}\n\u{FEFF}b\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Only at the start of the input: later it is data.
        #expect(try Self.lines(path).map(\.text) == ["{\"a\":1}", "\u{FEFF}b"])
    }

    /// Lines never split or lost at chunk boundaries: a seeded mix of lengths around the buffer sizes.
    @Test func everyLineComesBackWhateverItsLength() throws {
        var rng = SeededRandom(seed: 4)
        var expected: [String] = []
        for _ in 0..<300 {
            let n = rng.bernoulli(0.05) ? rng.below(3_000_000) : rng.below(200)
            expected.append(String(repeating: Character(UnicodeScalar(UInt8(97 + rng.below(26)))), count: n))
        }
        let path = try Self.file(Array((expected.joined(separator: "\n") + "\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Self.lines(path).map(\.text) == expected)
    }
}
