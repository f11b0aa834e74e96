import FsmlCore
import Parquet

/// A dataset read back for training or evaluation: the feature columns (NaN where null), labels,
/// example times and the text of segment columns.
public struct DatasetTable: Sendable {
    public var featureNames: [String]
    /// Column-major: `features[f][row]`.
    public var features: [[Double]]
    public var labels: [Float]
    public var times: [Micros]
    public var segments: [String: [String?]]
    public var rows: Int { labels.count }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> DatasetTable {
        DatasetTable(
            featureNames: featureNames, features: features.map { c in indices.map { c[$0] } },
            labels: indices.map { labels[$0] }, times: indices.map { times[$0] },
            segments: segments.mapValues { c in indices.map { c[$0] } })
    }
}

public enum DatasetReader {
    /// Reads `features`, `label` and `time` (required) and `segments` (when present) from a Parquet
    /// dataset written by `fsml build`.
    public static func load(
        path: String, features: [String], label: String, time: String, segments: [String]
    ) throws -> DatasetTable {
        guard path.hasSuffix(".parquet") else {
            throw FsmlIOError.corrupt(path, "datasets for training are Parquet files (fsml build --out NAME.parquet)")
        }
        let reader = try ParquetReader(path: path)
        func index(_ name: String, _ role: String) throws -> Int {
            guard let i = reader.columnIndex(name) else {
                throw FsmlIOError.corrupt(path, "has no \(role) column '\(name)'")
            }
            return i
        }
        let featureIdx = try features.map { try index($0, "feature") }
        let labelIdx = try index(label, "label")
        let timeIdx = try index(time, "time")
        let segmentNames = segments.filter { reader.columnIndex($0) != nil }
        let segmentIdx = segmentNames.map { reader.columnIndex($0)! }
        let wanted = featureIdx + [labelIdx, timeIdx] + segmentIdx
        var table = DatasetTable(
            featureNames: features, features: Array(repeating: [], count: features.count), labels: [], times: [],
            segments: Dictionary(segmentNames.map { ($0, []) }, uniquingKeysWith: { a, _ in a }))
        for g in reader.rowGroups.indices {
            let data = try reader.read(rowGroup: g, columns: wanted)
            for f in features.indices { table.features[f] += doubles(data[f]) }
            let labels = doubles(data[features.count])
            if let bad = labels.firstIndex(where: { !$0.isFinite }) {
                throw FsmlIOError.corrupt(path, "label '\(label)' is null in row \(table.labels.count + bad + 1)")
            }
            table.labels += labels.map { Float($0) }
            table.times += doubles(data[features.count + 1]).map { Micros($0) }
            for (s, name) in segmentNames.enumerated() { table.segments[name]! += texts(data[features.count + 2 + s]) }
        }
        return table
    }

    public static func doubles(_ c: ColumnData) -> [Double] {
        var out: [Double]
        switch c.values {
        case .double(let v): out = v
        case .float(let v): out = v.map { Double($0) }
        case .int32(let v): out = v.map { Double($0) }
        case .int64(let v): out = v.map { Double($0) }
        case .boolean(let v): out = v.map { $0 ? 1 : 0 }
        case .byteArray(let v): out = v.map { Double($0) ?? .nan }
        }
        if let nulls = c.nulls { for i in out.indices where nulls[i] { out[i] = .nan } }
        return out
    }

    public static func texts(_ c: ColumnData) -> [String?] {
        var out: [String?]
        switch c.values {
        case .byteArray(let v): out = v
        case .boolean(let v): out = v.map { $0 ? "true" : "false" }
        case .int32(let v): out = v.map { String($0) }
        case .int64(let v): out = v.map { String($0) }
        case .double(let v): out = v.map { "\($0)" }
        case .float(let v): out = v.map { "\($0)" }
        }
        if let nulls = c.nulls { for i in out.indices where nulls[i] { out[i] = nil } }
        return out
    }
}

/// Training and validation rows split by time: validation is every row at or after `start`.
/// Never random: a random split would let the model see the future of the days it is judged on.
public struct TimeSplit: Sendable, Equatable {
    public var train: [Int]
    public var valid: [Int]
    public var start: Micros

    /// Validation starts `validDays` before the latest example time (default: the last day).
    public static func lastDays(_ times: [Micros], validDays: Double = 1) -> TimeSplit {
        let last = times.max() ?? 0
        return at(times, start: last - Micros(validDays * 86_400_000_000))
    }

    public static func at(_ times: [Micros], start: Micros) -> TimeSplit {
        var train: [Int] = []
        var valid: [Int] = []
        for (i, t) in times.enumerated() {
            if t >= start { valid.append(i) } else { train.append(i) }
        }
        return TimeSplit(train: train, valid: valid, start: start)
    }
}
