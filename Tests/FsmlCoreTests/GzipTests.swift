import Foundation
import FsmlCore
import Testing

@Suite struct GzipTests {
    @Test func roundTripsAndConcatenatedMembersReadAsOne() throws {
        let a = Array(String(repeating: "hello clickstream\n", count: 5000).utf8)
        let b = Array("second member\n".utf8)
        let joined = try Gzip.compress(a) + Gzip.compress(b, level: 1)
        #expect(try Gzip.decompress(joined) == a + b)
    }

    @Test func truncatedAndCorruptDataAreErrors() throws {
        let packed = try Gzip.compress(Array(String(repeating: "x", count: 100_000).utf8))
        #expect(throws: GzipError.self) { try Gzip.decompress(Array(packed.prefix(packed.count / 2))) }
        var corrupt = packed
        corrupt[12] ^= 0xFF
        corrupt[13] ^= 0xFF
        #expect(throws: GzipError.self) { try Gzip.decompress(corrupt) }
    }

    @Test func lineReaderReadsPlainGzipAndAFinalLineWithoutNewline() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-lines-\(UUID().uuidString)").path
        try FileSystem.createDirectory(dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = (0..<50_000).map { "line \($0) " + String(repeating: "z", count: $0 % 300) }
        let text = lines.joined(separator: "\n")
        try FileSystem.writeAtomically(text, to: "\(dir)/plain.jsonl")
        let bytes = Array(text.utf8)
        // Two members, split in the middle of a line.
        let gz = try Gzip.compress(Array(bytes[0..<1_000_001])) + Gzip.compress(Array(bytes[1_000_001...]))
        try FileSystem.writeAtomically(gz, to: "\(dir)/packed.jsonl.gz")
        for name in ["plain.jsonl", "packed.jsonl.gz"] {
            let reader = try LineReader(path: "\(dir)/\(name)")
            var read: [String] = []
            while let line = try reader.next() { read.append(String(decoding: line, as: UTF8.self)) }
            #expect(read == lines)
            #expect(reader.linesRead == lines.count)
        }
        let skipping = try LineReader(path: "\(dir)/packed.jsonl.gz")
        #expect(try skipping.skip(lines: 49_990) == 49_990)
        #expect(String(decoding: try skipping.next()!, as: UTF8.self) == lines[49_990])
    }

    @Test func aTruncatedGzipFileIsReported() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-trunc-\(UUID().uuidString).gz")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let gz = try Gzip.compress(Array(String(repeating: "some line\n", count: 20_000).utf8))
        try FileSystem.writeAtomically(Array(gz.prefix(gz.count - 20)), to: path)
        let reader = try LineReader(path: path)
        #expect(throws: FsmlIOError.self) { while try reader.next() != nil {} }
    }
}
