import Foundation
import FsmlCore
import Parquet
import Testing

/// Files pyarrow 26 wrote (Fixtures/make_fixtures.py): data pages v1 and v2, dictionaries or not,
/// SNAPPY, GZIP and none; every type fsml reads; a null in each optional column.
@Suite struct ParquetReaderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        .path

    static let expectedStrings = (0..<10).map { $0 == 9 ? "" : ["apple", "pear", "fig", "é😀"][$0 % 4] }
    static let noon = try! Timestamp.parse("2025-01-15T12:00:00Z").get()

    func readAll(_ name: String) throws -> (ParquetReader, [ColumnData]) {
        let reader = try ParquetReader(path: "\(Self.fixtures)/\(name)")
        var columns: [ColumnData] = []
        for g in reader.rowGroups.indices {
            let group = try reader.read(rowGroup: g)
            if columns.isEmpty {
                columns = group
                continue
            }
            for c in columns.indices { columns[c] = concat(columns[c], group[c]) }
        }
        return (reader, columns)
    }

    func concat(_ a: ColumnData, _ b: ColumnData) -> ColumnData {
        let nulls =
            (a.nulls ?? [Bool](repeating: false, count: a.count))
            + (b.nulls ?? [Bool](repeating: false, count: b.count))
        switch (a.values, b.values) {
        case (.boolean(let x), .boolean(let y)): return ColumnData(.boolean(x + y), nulls: nulls)
        case (.int32(let x), .int32(let y)): return ColumnData(.int32(x + y), nulls: nulls)
        case (.int64(let x), .int64(let y)): return ColumnData(.int64(x + y), nulls: nulls)
        case (.float(let x), .float(let y)): return ColumnData(.float(x + y), nulls: nulls)
        case (.double(let x), .double(let y)): return ColumnData(.double(x + y), nulls: nulls)
        case (.byteArray(let x), .byteArray(let y)): return ColumnData(.byteArray(x + y), nulls: nulls)
        default: return a
        }
    }

    @Test(arguments: ["pyarrow_snappy_v1.parquet", "pyarrow_gzip_v2.parquet", "pyarrow_plain_uncompressed.parquet"])
    func pyarrowFilesReadBack(name: String) throws {
        let (reader, c) = try readAll(name)
        #expect(reader.numRows == 10)
        #expect(reader.columns.map(\.name) == ["b", "i32", "i64", "f32", "f64", "s", "ts", "req"])
        #expect(reader.columns[5].logical == .string)
        #expect(reader.columns[6].logical == .timestampMicros(utc: true))
        #expect(reader.columns[7].optional == false)
        #expect(c[0] == ColumnData(.boolean((0..<10).map { $0 % 3 == 0 && $0 != 4 }), nulls: (0..<10).map { $0 == 4 }))
        #expect(
            c[1]
                == ColumnData(
                    .int32((0..<10).map { $0 == 5 ? 0 : Int32($0 * 7 - 20) }), nulls: (0..<10).map { $0 == 5 }))
        #expect(
            c[2]
                == ColumnData(
                    .int64((0..<10).map { $0 == 6 ? 0 : (1 << 40) + Int64($0) }), nulls: (0..<10).map { $0 == 6 }))
        #expect(
            c[3] == ColumnData(.float((0..<10).map { $0 == 7 ? 0 : Float($0) / 4 }), nulls: (0..<10).map { $0 == 7 }))
        #expect(
            c[4]
                == ColumnData(.double((0..<10).map { $0 == 8 ? 0 : Double($0) * 1.1 }), nulls: (0..<10).map { $0 == 8 })
        )
        #expect(c[5] == ColumnData(.byteArray(Self.expectedStrings), nulls: (0..<10).map { $0 == 9 }))
        let ts: [Int64] = (0..<10).map { (i: Int) -> Int64 in
            i == 0 ? 0 : Self.noon + Int64(i) * 1_000_000 + Int64(250_000 * (i % 4))
        }
        #expect(c[6] == ColumnData(.int64(ts), nulls: (0..<10).map { $0 == 0 }))
        #expect(c[7] == ColumnData(.int64(Array(0..<10))))
    }

    @Test func statisticsOfAPyarrowFile() throws {
        let reader = try ParquetReader(path: "\(Self.fixtures)/pyarrow_plain_uncompressed.parquet")
        let stats = reader.rowGroups[0].columns
        #expect(stats[1].min == .int32(-20) && stats[1].max == .int32(43))
        #expect(stats[1].nullCount == 1)
        #expect(stats[5].min == .bytes(Array("apple".utf8)))
        #expect(stats[5].max == .bytes(Array("é😀".utf8)))
    }
}
