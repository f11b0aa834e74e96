import Foundation
import FsmlCore
import Testing

@testable import Parquet

/// Writes Parquet files of every type, codec and encoding with their expected values as JSON.
/// `make test` sets FSML_INTEROP_DIR and then reads them with pyarrow and DuckDB
/// (tests/interop/check_parquet.py), which must see exactly these values.
@Suite struct ParquetInteropFixtureTests {
    @Test func writeFilesForTheInteropCheck() throws {
        let dir =
            ProcessInfo.processInfo.environment["FSML_INTEROP_DIR"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("fsml-interop-\(UUID().uuidString)").path
        try FileSystem.createDirectory("\(dir)/parquet")
        var manifest: [JSONValue] = []
        for codec in ParquetCodec.allCases {
            for dictionary in [true, false] {
                let name = "fsml_\(codec.name.lowercased())_\(dictionary ? "dict" : "plain").parquet"
                let groups = [
                    ParquetWriterTests.group(rows: 700, seed: 11), ParquetWriterTests.group(rows: 300, seed: 12),
                ]
                let writer = try ParquetWriter(
                    path: "\(dir)/parquet/\(name)", columns: ParquetWriterTests.columns, codec: codec,
                    dictionary: dictionary)
                for g in groups { try writer.write(rowGroup: g) }
                try writer.close()
                let reader = try ParquetReader(path: "\(dir)/parquet/\(name)")
                #expect(reader.numRows == 1000)
                var columns: [(String, JSONValue)] = []
                for (c, column) in ParquetWriterTests.columns.enumerated() {
                    var values: [JSONValue] = []
                    for g in groups {
                        let d = g[c]
                        for r in 0..<d.count {
                            if d.isNull(r) {
                                values.append(.null)
                                continue
                            }
                            switch d.values {
                            case .boolean(let v): values.append(.bool(v[r]))
                            case .int32(let v): values.append(.int(Int(v[r])))
                            case .int64(let v): values.append(.string(String(v[r])))  // exact beyond 2^53
                            case .float(let v): values.append(.number(Double(v[r])))
                            case .double(let v): values.append(.number(v[r]))
                            case .byteArray(let v): values.append(.string(v[r]))
                            }
                        }
                    }
                    columns.append((column.name, .array(values)))
                }
                manifest.append(
                    .object([("file", .string(name)), ("codec", .string(codec.name)), ("columns", .object(columns))]))
            }
        }
        try FileSystem.writeAtomically(
            JSONText.render(.array(manifest), indent: nil), to: "\(dir)/parquet/expected.json")
    }
}
