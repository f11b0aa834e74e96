import Foundation
import FsmlCore
import Testing

@testable import Parquet

@Suite struct ParquetWriterTests {
    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fsml-pq-\(UUID().uuidString)-\(name)").path
    }

    static let columns: [ParquetColumn] = [
        ParquetColumn(name: "flag", physical: .boolean), ParquetColumn(name: "small", physical: .int32),
        ParquetColumn(name: "big", physical: .int64, optional: false), ParquetColumn(name: "ratio", physical: .float),
        ParquetColumn(name: "score", physical: .double), .string("user_id"), .timestamp("event_ts"),
    ]

    /// A seeded row group: repeated strings (dictionary), unique ints (plain), some nulls.
    static func group(rows: Int, seed: UInt64) -> [ColumnData] {
        var rng = SeededRandom(seed: seed)
        func nulls(_ rate: Double) -> [Bool] { (0..<rows).map { _ in rng.bernoulli(rate) } }
        let flagNulls = nulls(0.1)
        let smallNulls = nulls(0.3)
        let ratioNulls = nulls(0.05)
        let scoreNulls = nulls(0.0)
        let userNulls = nulls(0.2)
        let tsNulls = nulls(0.01)
        return [
            ColumnData(.boolean((0..<rows).map { flagNulls[$0] ? false : rng.bernoulli(0.4) }), nulls: flagNulls),
            ColumnData(.int32((0..<rows).map { smallNulls[$0] ? 0 : Int32(rng.below(50)) - 25 }), nulls: smallNulls),
            ColumnData(.int64((0..<rows).map { _ in Int64(bitPattern: rng.next()) })),
            ColumnData(.float((0..<rows).map { ratioNulls[$0] ? 0 : Float(rng.normal()) }), nulls: ratioNulls),
            ColumnData(.double((0..<rows).map { scoreNulls[$0] ? 0 : Double(rng.below(7)) / 3 }), nulls: scoreNulls),
            ColumnData(
                .byteArray(
                    (0..<rows).map { userNulls[$0] ? "" : "u_\(rng.below(40))\(rng.bernoulli(0.01) ? "é" : "")" }),
                nulls: userNulls),
            ColumnData(
                .int64((0..<rows).map { tsNulls[$0] ? 0 : 1_736_944_282_314_000 + Int64(rng.below(1_000_000_000)) }),
                nulls: tsNulls),
        ]
    }

    @Test(arguments: ParquetCodec.allCases, [true, false])
    func everyTypeRoundTrips(codec: ParquetCodec, dictionary: Bool) throws {
        let path = Self.temporary("rt.parquet")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ParquetWriter(
            path: path, columns: Self.columns, codec: codec, dictionary: dictionary, metadata: [("fsml.test", "yes")])
        let groups = [Self.group(rows: 1000, seed: 1), Self.group(rows: 1, seed: 2), Self.group(rows: 4321, seed: 3)]
        for g in groups { try writer.write(rowGroup: g) }
        try writer.close()
        let reader = try ParquetReader(path: path)
        #expect(reader.columns == Self.columns)
        #expect(reader.rowGroups.map(\.rows) == [1000, 1, 4321])
        #expect(reader.metadata["fsml.test"] == "yes")
        for (g, expected) in groups.enumerated() {
            #expect(try reader.read(rowGroup: g) == expected)
            // Reading a subset of columns.
            #expect(try reader.read(rowGroup: g, columns: [5, 2]) == [expected[5], expected[2]])
        }
        #expect(reader.rowGroups[0].columns.allSatisfy { $0.codec == codec })
    }

    @Test func statisticsHoldMinMaxAndNullCounts() throws {
        let path = Self.temporary("stats.parquet")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ParquetWriter(
            path: path, columns: [ParquetColumn(name: "x", physical: .double), .string("s"), .timestamp("t")])
        try writer.write(rowGroup: [
            ColumnData(.double([3, .nan, -1.5, 0, 7]), nulls: [false, false, false, true, false]),
            ColumnData(.byteArray(["b", "a", "é", "ab", "B"])),
            ColumnData(.int64([20, 10, 30, 40, 5])),
        ])
        try writer.close()
        let stats = try ParquetReader(path: path).rowGroups[0].columns
        #expect(stats[0].min == .double(-1.5) && stats[0].max == .double(7) && stats[0].nullCount == 1)
        // Strings order by unsigned bytes: "B" < "a" < "ab" < "b" < "é".
        #expect(stats[1].min == .bytes(Array("B".utf8)) && stats[1].max == .bytes(Array("é".utf8)))
        #expect(stats[2].min == .int64(5) && stats[2].max == .int64(40))
    }

    @Test func stringsCompareByUnsignedBytes() {
        let ordered = ["", "B", "a", "ab", "b", "z", "é", "\u{10FFFF}"]
        for (i, a) in ordered.enumerated() {
            for (j, b) in ordered.enumerated() {
                #expect(Statistics.bytewiseLess(a, b) == (i < j), "\(a) < \(b)")
            }
        }
    }

    /// One flipped bit anywhere in a file fsml wrote is an error that names the file, or reads back
    /// the very same data (a bit in a field nothing reads); never a different dataset.
    @Test(arguments: ParquetCodec.allCases)
    func aFlippedBitIsAnErrorNeverADifferentDataset(codec: ParquetCodec) throws {
        let path = Self.temporary("good.parquet")
        let bad = Self.temporary("flipped.parquet")
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: bad)
        }
        let writer = try ParquetWriter(path: path, columns: Self.columns, codec: codec)
        try writer.write(rowGroup: Self.group(rows: 200, seed: 10))
        try writer.close()
        let original = try ParquetReader(path: path).read(rowGroup: 0)
        let bytes = try FileSystem.readBytes(path)
        var rng = SeededRandom(seed: 78)
        var detected = 0
        for _ in 0..<400 {
            var flipped = bytes
            let at = rng.below(flipped.count)
            flipped[at] ^= UInt8(1 << rng.below(8))
            try FileSystem.writeAtomically(flipped, to: bad)
            do {
                let r = try ParquetReader(path: bad)
                let data = try r.rowGroups.indices.map { try r.read(rowGroup: $0) }
                #expect(data == [original], "a bit flipped at byte \(at) of \(bytes.count) read back different data")
            } catch let error as ParquetError {
                #expect(error.file == bad)
                detected += 1
            }
        }
        #expect(detected > 300)
    }

    @Test func truncatedAndCorruptFilesAreErrorsThatNameTheFile() throws {
        let path = Self.temporary("good.parquet")
        let bad = Self.temporary("bad.parquet")
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: bad)
        }
        let writer = try ParquetWriter(path: path, columns: Self.columns, codec: .snappy)
        try writer.write(rowGroup: Self.group(rows: 300, seed: 9))
        try writer.close()
        let bytes = try FileSystem.readBytes(path)
        // Every truncation fails cleanly.
        for n in stride(from: 0, to: bytes.count, by: 7) {
            try FileSystem.writeAtomically(Array(bytes[0..<n]), to: bad)
            do {
                let r = try ParquetReader(path: bad)
                _ = try r.read(rowGroup: 0)
                Issue.record("a file cut at \(n) bytes read back")
            } catch let error as ParquetError {
                #expect(error.file == bad)
            }
        }
        // Random damage never traps; it reads back or fails with a ParquetError.
        var rng = SeededRandom(seed: 77)
        for _ in 0..<300 {
            var damaged = bytes
            for _ in 0..<(1 + rng.below(6)) {
                damaged[rng.below(damaged.count)] = UInt8(truncatingIfNeeded: rng.next())
            }
            try FileSystem.writeAtomically(damaged, to: bad)
            do {
                let r = try ParquetReader(path: bad)
                for g in r.rowGroups.indices { _ = try r.read(rowGroup: g) }
            } catch is ParquetError {
            }
        }
        #expect(throws: ParquetError("/nonexistent/x.parquet", "cannot open: No such file or directory")) {
            try ParquetReader(path: "/nonexistent/x.parquet")
        }
    }

    @Test func snappyAndRLERoundTrip() throws {
        var rng = SeededRandom(seed: 5)
        for size in [0, 1, 5, 100, 70_000, 200_000] {
            let data = (0..<size).map { i in i % 97 < 50 ? UInt8(i % 7) : UInt8(truncatingIfNeeded: rng.next()) }
            let packed = data.withUnsafeBytes { Snappy.compress($0) }
            #expect(try packed.withUnsafeBytes { try Snappy.decompress($0) } == data)
        }
        // A literal and an overlapping copy, hand-encoded: "abcabcabcab".
        let stream: [UInt8] = [11, 2 << 2, 0x61, 0x62, 0x63, (8 - 1) << 2 | 2, 3, 0]
        #expect(try stream.withUnsafeBytes { try Snappy.decompress($0) } == Array("abcabcabcab".utf8))
        for width in [1, 3, 8, 13] {
            let values = (0..<3000).map { i in
                i % 200 < 40
                    ? UInt32(5 % (1 << width)) : UInt32(truncatingIfNeeded: rng.next()) & ((1 << UInt32(width)) - 1)
            }
            var out: [UInt8] = []
            RLEHybrid.encode(values, bitWidth: width, into: &out)
            #expect(
                try out.withUnsafeBytes { try RLEHybrid.decode($0, bitWidth: width, count: values.count) } == values)
        }
    }
}
