import EventGenerator
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import Parquet

@testable import PointInTime

enum PIT {
    static let registry = EventFactory.referenceRegistry()

    static func temporaryStore() -> OfflineStore {
        OfflineStore(
            root: FileManager.default.temporaryDirectory.appendingPathComponent("fsml-pit-\(UUID().uuidString)").path)
    }

    /// Admits events in the given arrival order into a new store; returns what was admitted.
    @discardableResult
    static func ingest(
        _ events: [Event], into store: OfflineStore, fileBytes: Int = 128 << 20, rowGroupRows: Int = 65_536,
        background: Bool = false, registry: FeatureRegistry = PIT.registry
    ) throws -> [StoredEvent] {
        var intake = Intake(schema: registry.schema, lateness: registry.allowedLateness)
        let writer = OfflineStoreWriter(
            store: store, schema: registry.schema, rowGroupRows: rowGroupRows, targetFileBytes: fileBytes,
            background: background)
        var sink = CollectingSink()
        for (i, e) in events.enumerated() {
            try intake.offer(e, origin: Origin(source: "test", line: i + 1), into: &sink)
        }
        try intake.finish(into: &sink)
        for stored in sink.admitted { try writer.append(stored) }
        try writer.commit()
        return sink.admitted
    }

    static func generated(seed: UInt64, events: Int = 20_000) throws -> [Event] {
        let parser = EventParser(schema: registry.schema)
        return try generatedLines(seed: seed, events: events).map { try $0.withUnsafeBytes { parser.parse($0) }.get() }
    }

    /// The generated JSON lines, in arrival order.
    static func generatedLines(seed: UInt64, events: Int = 20_000) throws -> [[UInt8]] {
        var config = GeneratorConfig()
        config.events = events
        config.users = 150
        config.products = 60
        config.days = 2
        config.seed = seed
        config.lateFraction = 0.08
        config.duplicateFraction = 0.03
        var bytes: [UInt8] = []
        _ = try EventGenerator(config: config).run(gzip: false) { bytes.append(contentsOf: $0) }
        return bytes.split(separator: 10).map { Array($0) }
    }

    /// Builds into a temporary Parquet file and reads it back.
    static func build(
        _ store: OfflineStore, options: BuildOptions = BuildOptions(), spine: Spine? = nil,
        registry: FeatureRegistry = PIT.registry, chunkEvents: Int? = nil, threads: Int? = nil
    ) throws -> (BuildReport, [ParquetColumn], [ColumnData]) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-ds-\(UUID().uuidString).parquet")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let builder = DatasetBuilder(registry: registry, store: store, options: options)
        if let chunkEvents { builder.chunkEvents = chunkEvents }
        if let threads { builder.threads = threads }
        let report: BuildReport
        let columns: [ParquetColumn]
        if let spine {
            columns = spine.columns + builder.featureColumns
            let writer = try DatasetWriter(path: path, format: .parquet, columns: columns)
            report = try builder.buildSpine(spine, into: writer)
            try writer.close()
        } else {
            columns = builder.exampleColumns
            let writer = try DatasetWriter(path: path, format: .parquet, columns: columns)
            report = try builder.buildExamples(into: writer)
            try writer.close()
        }
        let reader = try ParquetReader(path: path)
        var data: [ColumnData] = []
        for g in reader.rowGroups.indices {
            let group = try reader.read(rowGroup: g)
            data = data.isEmpty ? group : zip(data, group).map { ColumnData.concatenate($0, $1) }
        }
        return (report, columns, data)
    }

    /// Each row of the columns as one text (nulls as "null"), for comparing rows in any order.
    static func rowTexts(_ data: [ColumnData]) -> [String] {
        let n = data.first?.count ?? 0
        return (0..<n).map { r in
            data.map { c -> String in
                if c.isNull(r) { return "null" }
                switch c.values {
                case .boolean(let v): return "\(v[r])"
                case .int32(let v): return "\(v[r])"
                case .int64(let v): return "\(v[r])"
                case .float(let v): return "\(v[r])"
                case .double(let v): return "\(v[r])"
                case .byteArray(let v): return v[r]
                }
            }
            .joined(separator: "|")
        }
    }

    static func doubles(_ c: ColumnData) -> [Double] {
        guard case .double(let v) = c.values else { return [] }
        return v.indices.map { c.isNull($0) ? .nan : v[$0] }
    }

    /// The rows `rows` of a column, nulls kept.
    static func rows(_ c: ColumnData, _ rows: [Int]) -> ColumnData {
        let values: ColumnValues
        switch c.values {
        case .boolean(let v): values = .boolean(rows.map { v[$0] })
        case .int32(let v): values = .int32(rows.map { v[$0] })
        case .int64(let v): values = .int64(rows.map { v[$0] })
        case .float(let v): values = .float(rows.map { v[$0] })
        case .double(let v): values = .double(rows.map { v[$0] })
        case .byteArray(let v): values = .byteArray(rows.map { v[$0] })
        }
        return ColumnData(values, nulls: rows.map { c.isNull($0) })
    }

    /// The physical type of a column's values.
    static func physical(_ c: ColumnData) -> ParquetPhysicalType {
        switch c.values {
        case .boolean: .boolean
        case .int32: .int32
        case .int64: .int64
        case .float: .float
        case .double: .double
        case .byteArray: .byteArray
        }
    }

    static func strings(_ c: ColumnData) -> [String?] {
        guard case .byteArray(let v) = c.values else { return [] }
        return v.indices.map { c.isNull($0) ? nil : v[$0] }
    }

    static func int64s(_ c: ColumnData) -> [Int64] {
        guard case .int64(let v) = c.values else { return [] }
        return v
    }

    static func int32s(_ c: ColumnData) -> [Int32] {
        guard case .int32(let v) = c.values else { return [] }
        return v
    }
}
