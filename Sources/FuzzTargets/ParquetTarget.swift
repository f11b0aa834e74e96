import Foundation
import Parquet

/// Parquet files (datasets, the offline store, files from pyarrow or DuckDB): a `ParquetError`, or
/// columns whose every chunk has as many values as its row group has rows.
enum ParquetTarget {
    static let target = FuzzTarget(name: "parquet", summary: "the Parquet reader over whole files", run: run)

    /// The reader reads files; one per process, rewritten for each input.
    private static let path = NSTemporaryDirectory() + "/fsml-fuzz-\(getpid()).parquet"

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("cannot write \(path)") }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            guard n > 0 else { fatalError("cannot write \(path)") }
            done += n
        }
        close(fd)
        guard let reader = try? ParquetReader(path: path) else { return }
        for (g, group) in reader.rowGroups.enumerated() {
            guard let chunks = try? reader.read(rowGroup: g) else { continue }
            mustHold(chunks.count == reader.columns.count, "\(chunks.count) chunks for \(reader.columns.count) columns")
            for chunk in chunks {
                mustHold(chunk.count == group.rows, "a chunk of \(chunk.count) values in a group of \(group.rows) rows")
                mustHold(chunk.nulls.map { $0.count == chunk.count } ?? true, "nulls and values differ in count")
            }
        }
    }
}
