import FsmlCore
import Parquet

/// A dataset's columns as drift values: text columns are categories, the others numbers.
public enum DriftInput {
    /// The columns to compare when none are named: the features in the reference's manifest
    /// when it has one (keys, times and labels are not features), else every column both share.
    public static func defaultColumns(
        reference: String, current: ParquetReader, referenceReader: ParquetReader
    ) -> [String] {
        let shared = referenceReader.columns.map(\.name).filter { current.columnIndex($0) != nil }
        let manifest = DatasetManifest.path(forDataset: reference)
        if let bytes = try? FileSystem.readBytes(manifest), let node = try? JSONParser.parse(bytes),
            let features = node["features"]?.array?.compactMap({ $0["name"]?.string }), !features.isEmpty
        {
            return shared.filter(features.contains)
        }
        return shared
    }

    /// The event-time column of an fsml dataset, from its manifest.
    public static func timeColumn(dataset: String) -> String? {
        guard let bytes = try? FileSystem.readBytes(DatasetManifest.path(forDataset: dataset)),
            let node = try? JSONParser.parse(bytes)
        else { return nil }
        return node["columns"]?["time"]?.string
    }

    /// Splits one dataset's columns by time: the rows of the last `days` (up to the latest time)
    /// are the current data, the earlier rows the reference. `times` in microseconds.
    public static func splitByTime(
        _ columns: [String: DriftValues], times: [Double], days: Double
    ) -> (
        reference: [String: DriftValues], current: [String: DriftValues], start: Double
    ) {
        let latest = times.filter(\.isFinite).max() ?? 0
        let start = latest - days * 86_400_000_000
        let recent = times.map { $0 >= start }
        func pick(_ v: DriftValues, _ keep: Bool) -> DriftValues {
            switch v {
            case .numbers(let n): .numbers(n.indices.filter { recent[$0] == keep }.map { n[$0] })
            case .categories(let c): .categories(c.indices.filter { recent[$0] == keep }.map { c[$0] })
            }
        }
        return (columns.mapValues { pick($0, false) }, columns.mapValues { pick($0, true) }, start)
    }

    /// Reads `columns` of the Parquet file at `path`, every row group.
    public static func read(_ reader: ParquetReader, columns: [String]) throws -> [String: DriftValues] {
        var indices: [Int] = []
        for name in columns {
            guard let c = reader.columnIndex(name) else {
                throw BuildError(description: "\(reader.path) has no column '\(name)'")
            }
            indices.append(c)
        }
        var numbers: [String: [Double]] = [:]
        var texts: [String: [String?]] = [:]
        for g in reader.rowGroups.indices {
            let data = try reader.read(rowGroup: g, columns: indices)
            for (k, name) in columns.enumerated() {
                if case .byteArray = data[k].values {
                    texts[name, default: []] += DatasetReader.texts(data[k])
                } else {
                    numbers[name, default: []] += DatasetReader.doubles(data[k])
                }
            }
        }
        var out: [String: DriftValues] = [:]
        for name in columns {
            out[name] = texts[name].map(DriftValues.categories) ?? .numbers(numbers[name] ?? [])
        }
        return out
    }
}
