import FsmlCore
import GBDT
import Parquet

/// Per-row SHAP values as a file: a column per feature, then `bias`; CSV (shortest round-trip
/// numbers), or Parquet (DOUBLE columns) when the name ends in `.parquet`.
enum ContributionsFile {
    static func write(_ shap: SHAPValues, to path: String) throws {
        let names = shap.featureNames + ["bias"]
        if path.lowercased().hasSuffix(".parquet") {
            let writer = try ParquetWriter(
                path: path, columns: names.map { ParquetColumn(name: $0, physical: .double, optional: false) },
                codec: .snappy, dictionary: false)
            let groupRows = 65_536
            var start = 0
            while start < shap.rows {
                let end = min(shap.rows, start + groupRows)
                let columns = (0..<shap.width).map { c in
                    ColumnData(.double((start..<end).map { shap.values[$0 * shap.width + c] }))
                }
                try writer.write(rowGroup: columns)
                start = end
            }
            _ = try writer.close()
            return
        }
        var text = names.map(csvField).joined(separator: ",") + "\n"
        text.reserveCapacity(shap.values.count * 12)
        for r in 0..<shap.rows {
            for c in 0..<shap.width {
                if c > 0 { text += "," }
                text += "\(shap.values[r * shap.width + c])"
            }
            text += "\n"
        }
        try FileSystem.writeAtomically(text, to: path)
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
