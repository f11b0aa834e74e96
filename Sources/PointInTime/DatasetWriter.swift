import Foundation
import FsmlCore
import Parquet

/// Where a dataset goes: Parquet (row groups of 64 Ki rows) or CSV (a header line; nulls empty,
/// timestamps ISO-8601, text quoted when it needs to be).
public enum DatasetFormat: String, Sendable, CaseIterable {
    case parquet, csv
}

public final class DatasetWriter {
    public let path: String
    public let format: DatasetFormat
    public let columns: [ParquetColumn]
    private var parquet: ParquetWriter?
    private var csv: FileWriter?
    private var pending: [ColumnData] = []
    private var pendingRows = 0
    public private(set) var rows = 0
    /// The file's SHA-256 (hex), once closed: hashed while it was written.
    public private(set) var sha256: String?
    public static let rowGroupRows = 65_536
    /// Rows per Parquet row group (a labelled build hands rows over in groups of this size).
    public var groupRows = DatasetWriter.rowGroupRows

    /// `codec` and `dictionary`: Parquet's compression and dictionary encoding (a build's spills
    /// are read once, soon: plain and uncompressed is cheaper there). `hashed`: keep `sha256`.
    public init(
        path: String, format: DatasetFormat, columns: [ParquetColumn], metadata: [(String, String)] = [],
        codec: ParquetCodec = .snappy, dictionary: Bool = true, hashed: Bool = true
    ) throws {
        self.path = path
        self.format = format
        self.columns = columns
        switch format {
        case .parquet:
            parquet = try ParquetWriter(
                path: path, columns: columns, codec: codec, dictionary: dictionary, metadata: metadata,
                hashed: hashed)
        case .csv:
            csv = try FileWriter(path: path, atomic: true)
            if hashed { csv!.digest = SHA256() }
            try csv!.write(columns.map { Self.csvText($0.name) }.joined(separator: ",") + "\n")
        }
    }

    /// Appends rows given column by column.
    public func append(_ batch: [ColumnData]) throws {
        guard let count = batch.first?.count, count > 0 else { return }
        rows += count
        switch format {
        case .csv:
            try writeCSV(batch)
        case .parquet:
            pending = pending.isEmpty ? batch : zip(pending, batch).map { ColumnData.concatenate($0, $1) }
            pendingRows += count
            if pendingRows >= groupRows { try flush() }
        }
    }

    private func flush() throws {
        guard pendingRows > 0 else { return }
        try parquet?.write(rowGroup: pending)
        pending = []
        pendingRows = 0
    }

    private func writeCSV(_ batch: [ColumnData]) throws {
        var out = ""
        for r in 0..<batch[0].count {
            for (c, column) in batch.enumerated() {
                if c > 0 { out += "," }
                if column.isNull(r) { continue }
                switch column.values {
                case .byteArray(let v): out += Self.csvText(v[r])
                case .double(let v): out += v[r].isFinite ? "\(v[r])" : ""
                case .float(let v): out += v[r].isFinite ? "\(v[r])" : ""
                case .int32(let v): out += String(v[r])
                case .boolean(let v): out += v[r] ? "true" : "false"
                case .int64(let v):
                    switch columns[c].logical {
                    case .timestampMicros: out += Timestamp.format(v[r])
                    case .timestampMillis: out += Timestamp.format(v[r] * 1000)
                    default: out += String(v[r])
                    }
                }
            }
            out += "\n"
        }
        try csv?.write(out)
    }

    static func csvText(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public func close() throws {
        try flush()
        try parquet?.close()
        try csv?.close()
        if var digest = parquet?.digest ?? csv?.digest { sha256 = SHA256.hex(digest.finalize()) }
    }
}
