import FeatureCore
import FsmlCore
import Parquet

/// Rows of entity keys and timestamps to compute features for (Feast's entity dataframe), read
/// from CSV (header required) or Parquet. Key columns are named like the entities' key fields in
/// the event schema; the timestamp column is `event_timestamp`,
/// `timestamp` or the event time field's name, unless one is given. Every other column passes
/// through to the output unchanged.
public struct Spine {
    public var times: [Micros]
    /// Per entity kind, each row's key (nil when the spine lacks a key column or the row's value).
    public var keys: [[String?]]
    /// The spine's own columns, for the output.
    public var columns: [ParquetColumn]
    public var data: [ColumnData]
    public var timeColumn: Int
    /// Event fields the spine has a column for (by schema index), with their types: the request
    /// fields derived features read.
    var fieldColumns: [Int: (column: Int, type: FieldType)] = [:]

    public var rows: Int { times.count }

    /// Row `row`'s value of event field `field`, when the spine has a column of that name.
    func field(_ field: Int, row: Int) -> FieldValue {
        guard let (c, type) = fieldColumns[field], !data[c].isNull(row) else { return .missing }
        switch (data[c].values, type) {
        case (.double(let v), _): return .number(v[row])
        case (.float(let v), _): return .number(Double(v[row]))
        case (.int64(let v), _): return .number(Double(v[row]))
        case (.int32(let v), _): return .number(Double(v[row]))
        case (.boolean(let v), _): return .bool(v[row])
        case (.byteArray(let v), .string): return .string(v[row])
        case (.byteArray(let v), .bool):
            return v[row] == "true" ? .bool(true) : v[row] == "false" ? .bool(false) : .missing
        case (.byteArray(let v), _): return Double(v[row]).map(FieldValue.number) ?? .missing
        default: return .missing
        }
    }

    /// A spine made in code: keys per entity kind and times, no columns of its own.
    public init(times: [Micros], keys: [[String?]]) {
        self.times = times
        self.keys = keys
        columns = []
        data = []
        timeColumn = -1
    }

    init(times: [Micros], keys: [[String?]], columns: [ParquetColumn], data: [ColumnData], timeColumn: Int) {
        self.times = times
        self.keys = keys
        self.columns = columns
        self.data = data
        self.timeColumn = timeColumn
    }

    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func load(path: String, registry: FeatureRegistry, timeColumn: String? = nil) throws -> Spine {
        let (columns, data) = path.lowercased().hasSuffix(".parquet") ? try readParquet(path) : try readCSV(path)
        let names = columns.map(\.name)
        let candidates = timeColumn.map { [$0] } ?? ["event_timestamp", "timestamp", registry.schema.timeFieldName]
        guard let t = candidates.lazy.compactMap({ names.firstIndex(of: $0) }).first else {
            throw LoadError(
                description:
                    "\(path): no timestamp column (looked for \(candidates.joined(separator: ", ")); use --time-column)"
            )
        }
        var times: [Micros] = []
        times.reserveCapacity(data[t].count)
        for r in 0..<data[t].count {
            guard !data[t].isNull(r) else { throw LoadError(description: "\(path): row \(r + 1) has no timestamp") }
            switch (data[t].values, columns[t].logical) {
            case (.int64(let v), .timestampMillis):
                times.append(v[r] * 1000)
            case (.int64(let v), _):
                times.append(v[r])
            case (.byteArray(let v), _):
                if let micros = Int64(v[r]) {
                    times.append(micros)
                } else {
                    switch Timestamp.parseDateOrTime(v[r]) {
                    case .success(let m): times.append(m)
                    case .failure(let e): throw LoadError(description: "\(path): row \(r + 1): '\(v[r])': \(e)")
                    }
                }
            default:
                throw LoadError(
                    description: "\(path): the timestamp column \(names[t]) is neither a timestamp nor text")
            }
        }
        var keys: [[String?]] = []
        for entity in registry.entities {
            let keyColumns = entity.keyFields.map { names.firstIndex(of: registry.schema.fields[$0].name) }
            guard keyColumns.allSatisfy({ $0 != nil }) else {
                keys.append([String?](repeating: nil, count: times.count))
                continue
            }
            var column: [String?] = []
            column.reserveCapacity(times.count)
            for r in 0..<times.count {
                var parts: [String] = []
                for c in keyColumns.map({ $0! }) {
                    if data[c].isNull(r) { break }
                    switch data[c].values {
                    case .byteArray(let v): parts.append(v[r])
                    case .int64(let v): parts.append(String(v[r]))
                    case .int32(let v): parts.append(String(v[r]))
                    default: break
                    }
                }
                column.append(parts.count == keyColumns.count ? EntityKeyMaker.join(parts) : nil)
            }
            keys.append(column)
        }
        guard keys.contains(where: { $0.contains { $0 != nil } }) else {
            throw LoadError(
                description:
                    "\(path): no entity key column (expected one of \(registry.entities.flatMap { $0.keyFields.map { registry.schema.fields[$0].name } }.joined(separator: ", ")))"
            )
        }
        var spine = Spine(times: times, keys: keys, columns: columns, data: data, timeColumn: t)
        for (i, field) in registry.schema.fields.enumerated() {
            if let c = names.firstIndex(of: field.name), c != t { spine.fieldColumns[i] = (c, field.type) }
        }
        return spine
    }

    static func readParquet(_ path: String) throws -> ([ParquetColumn], [ColumnData]) {
        let reader = try ParquetReader(path: path)
        var data: [ColumnData]?
        for g in reader.rowGroups.indices {
            let group = try reader.read(rowGroup: g)
            data = data.map { zip($0, group).map { ColumnData.concatenate($0, $1) } } ?? group
        }
        return (reader.columns, data ?? [])
    }

    /// CSV with a header; every column is read as text (the key and timestamp columns are
    /// interpreted above; the rest pass through as text).
    static func readCSV(_ path: String) throws -> ([ParquetColumn], [ColumnData]) {
        let reader = try LineReader(path: path)
        guard let headerLine = try reader.next() else { throw LoadError(description: "\(path): empty file") }
        let header = splitCSV(String(decoding: headerLine, as: UTF8.self))
        var cells = [[String]](repeating: [], count: header.count)
        var nulls = [[Bool]](repeating: [], count: header.count)
        var lineNumber = 1
        while let line = try reader.next() {
            lineNumber += 1
            if line.isEmpty { continue }
            let fields = splitCSV(String(decoding: line, as: UTF8.self))
            guard fields.count == header.count else {
                throw LoadError(
                    description: "\(path):\(lineNumber): \(fields.count) fields, the header has \(header.count)")
            }
            for (c, v) in fields.enumerated() {
                cells[c].append(v)
                nulls[c].append(v.isEmpty)
            }
        }
        return (header.map { .string($0) }, cells.indices.map { ColumnData(.byteArray(cells[$0]), nulls: nulls[$0]) })
    }

    /// Splits a CSV line, honouring double quotes ("" inside quotes is a quote).
    static func splitCSV(_ line: String) -> [String] {
        var out: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(line)
        if chars.last == "\r" { chars.removeLast() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" {
                        field.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                out.append(field)
                field = ""
            } else {
                field.append(c)
            }
            i += 1
        }
        out.append(field)
        return out
    }
}
