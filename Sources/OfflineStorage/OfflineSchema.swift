import FeatureCore
import FsmlCore
import Parquet

/// How events are laid out in the offline store's Parquet files: one column per schema field
/// (dotted names kept: `card.brand`), typed as declared, plus the arrival sequence `_seq` and the
/// instant the event became known, `_known_at` (the stream's event-time clock at its arrival).
public struct OfflineSchema: Sendable {
    public static let sequenceColumn = "_seq"
    public static let knownAtColumn = "_known_at"

    public let schema: EventSchema
    public let columns: [ParquetColumn]

    public init(schema: EventSchema) {
        self.schema = schema
        var columns = schema.fields.map { f -> ParquetColumn in
            switch f.type {
            case .string: return .string(f.name, optional: f.optional)
            case .int: return ParquetColumn(name: f.name, physical: .int64, optional: f.optional)
            case .float: return ParquetColumn(name: f.name, physical: .double, optional: f.optional)
            case .bool: return ParquetColumn(name: f.name, physical: .boolean, optional: f.optional)
            case .timestamp: return .timestamp(f.name, optional: f.optional)
            }
        }
        columns.append(ParquetColumn(name: Self.sequenceColumn, physical: .int64, optional: false))
        columns.append(.timestamp(Self.knownAtColumn, optional: false))
        self.columns = columns
    }

    /// Identifies the layout; written into every file so a store written under another schema is
    /// refused rather than misread.
    public var fingerprint: String {
        SHA256.hex(of: columns.map { "\($0.name):\($0.physical):\($0.logical):\($0.optional)" }.joined(separator: ";"))
            .prefix(16)
            .description
    }
}

/// An admitted event as the offline store keeps it.
public struct StoredEvent: Sendable, Equatable {
    public var event: Event
    /// Arrival order, from 0, over the life of the store.
    public var sequence: Int64
    public var knownAt: Micros

    public init(event: Event, sequence: Int64, knownAt: Micros) {
        self.event = event
        self.sequence = sequence
        self.knownAt = knownAt
    }
}

/// Column builders for one row group of stored events.
struct EventColumns {
    let layout: OfflineSchema
    private var strings: [[String]]
    private var numbers: [[Double]]
    private var ints: [[Int64]]
    private var bools: [[Bool]]
    private var nulls: [[Bool]]
    private var slot: [Int]
    private(set) var count = 0

    init(layout: OfflineSchema) {
        self.layout = layout
        var slot: [Int] = []
        var counts = [0, 0, 0, 0]
        for f in layout.schema.fields {
            let kind: Int
            switch f.type {
            case .string: kind = 0
            case .float: kind = 1
            case .int, .timestamp: kind = 2
            case .bool: kind = 3
            }
            slot.append(kind << 16 | counts[kind])
            counts[kind] += 1
        }
        self.slot = slot
        strings = Array(repeating: [], count: counts[0])
        numbers = Array(repeating: [], count: counts[1])
        ints = Array(repeating: [], count: counts[2] + 2)
        bools = Array(repeating: [], count: counts[3])
        nulls = Array(repeating: [], count: layout.schema.fields.count)
    }

    mutating func append(_ stored: StoredEvent) {
        let timeField = layout.schema.timeField
        for (f, value) in stored.event.values.enumerated() {
            let s = slot[f]
            let kind = s >> 16
            let k = s & 0xFFFF
            var isNull = false
            switch (kind, value) {
            case (0, .string(let v)): strings[k].append(v)
            case (0, _):
                strings[k].append("")
                isNull = true
            case (1, .number(let v)): numbers[k].append(v)
            case (1, _):
                numbers[k].append(0)
                isNull = true
            case (2, .number(let v)): ints[k].append(f == timeField ? stored.event.time : Int64(v))
            case (2, _):
                ints[k].append(0)
                isNull = true
            case (3, .bool(let v)): bools[k].append(v)
            default:
                bools[k].append(false)
                isNull = true
            }
            nulls[f].append(isNull)
        }
        ints[ints.count - 2].append(stored.sequence)
        ints[ints.count - 1].append(stored.knownAt)
        count += 1
    }

    /// The columns in `layout.columns` order; resets the builder.
    mutating func take() -> [ColumnData] {
        var out: [ColumnData] = []
        for (f, field) in layout.schema.fields.enumerated() {
            let s = slot[f]
            let k = s & 0xFFFF
            let values: ColumnValues
            switch s >> 16 {
            case 0: values = .byteArray(strings[k])
            case 1: values = .double(numbers[k])
            case 2: values = .int64(ints[k])
            default: values = .boolean(bools[k])
            }
            out.append(ColumnData(values, nulls: field.optional ? nulls[f] : nil))
        }
        out.append(ColumnData(.int64(ints[ints.count - 2])))
        out.append(ColumnData(.int64(ints[ints.count - 1])))
        for i in strings.indices { strings[i].removeAll(keepingCapacity: true) }
        for i in numbers.indices { numbers[i].removeAll(keepingCapacity: true) }
        for i in ints.indices { ints[i].removeAll(keepingCapacity: true) }
        for i in bools.indices { bools[i].removeAll(keepingCapacity: true) }
        for i in nulls.indices { nulls[i].removeAll(keepingCapacity: true) }
        count = 0
        return out
    }
}

/// Turns Parquet row groups back into stored events.
struct EventDecoder {
    let layout: OfflineSchema
    /// For each schema field, its column index in the file.
    let columnOfField: [Int]
    let sequenceColumn: Int
    let knownAtColumn: Int

    /// Only `fields` are decoded (all when nil); the others stay missing.
    let fields: [Int]

    init(layout: OfflineSchema, fileColumns: [ParquetColumn], path: String, fields: Set<Int>? = nil) throws {
        self.layout = layout
        var map: [Int] = []
        for f in layout.schema.fields {
            guard let c = fileColumns.firstIndex(where: { $0.name == f.name }) else {
                throw ParquetError(path, "has no column '\(f.name)' (written under another event schema?)")
            }
            map.append(c)
        }
        self.fields = fields.map { $0.union([layout.schema.timeField]).sorted() } ?? Array(layout.schema.fields.indices)
        columnOfField = map
        guard let s = fileColumns.firstIndex(where: { $0.name == OfflineSchema.sequenceColumn }),
            let k = fileColumns.firstIndex(where: { $0.name == OfflineSchema.knownAtColumn })
        else { throw ParquetError(path, "is not an fsml offline store file (no _seq or _known_at column)") }
        sequenceColumn = s
        knownAtColumn = k
    }

    /// The file columns to read, in the order `decode` expects them.
    var columnsToRead: [Int] { fields.map { columnOfField[$0] } + [sequenceColumn, knownAtColumn] }

    /// Hands each row of the columns read as `columnsToRead` lists them to `body`, in order, in one
    /// event reused from row to row (`event`'s values are overwritten: no allocation per row, as
    /// long as `body` keeps no copy).
    func forEachRow(
        _ columns: [ColumnData], path: String, event: inout Event,
        _ body: (_ event: Event, _ sequence: Int64, _ knownAt: Micros) throws -> Void
    ) throws {
        guard case .int64(let seq) = columns[fields.count].values,
            case .int64(let known) = columns[fields.count + 1].values
        else {
            throw ParquetError(path, "_seq and _known_at must be INT64")
        }
        let timeField = layout.schema.timeField
        if event.values.count != layout.schema.fields.count {
            event = Event(time: 0, values: [FieldValue](repeating: .missing, count: layout.schema.fields.count))
        }
        for r in 0..<seq.count {
            var time: Micros = 0
            for (k, f) in fields.enumerated() {
                let column = columns[k]
                if column.isNull(r) {
                    event.values[f] = .missing
                    continue
                }
                switch column.values {
                case .byteArray(let v): event.values[f] = .string(v[r])
                case .double(let v): event.values[f] = .number(v[r])
                case .int64(let v):
                    event.values[f] = .number(Double(v[r]))
                    if f == timeField { time = v[r] }
                case .boolean(let v): event.values[f] = .bool(v[r])
                case .int32(let v): event.values[f] = .number(Double(v[r]))
                case .float(let v): event.values[f] = .number(Double(v[r]))
                }
            }
            event.time = time
            try body(event, seq[r], known[r])
        }
    }

    /// Decodes the columns read as `columnsToRead` lists them.
    func decode(_ columns: [ColumnData], path: String) throws -> [StoredEvent] {
        guard case .int64(let seq) = columns[fields.count].values,
            case .int64(let known) = columns[fields.count + 1].values
        else {
            throw ParquetError(path, "_seq and _known_at must be INT64")
        }
        let rows = seq.count
        var events: [StoredEvent] = []
        events.reserveCapacity(rows)
        let fieldCount = layout.schema.fields.count
        let timeField = layout.schema.timeField
        for r in 0..<rows {
            var values = [FieldValue](repeating: .missing, count: fieldCount)
            var time: Micros = 0
            for (k, f) in fields.enumerated() {
                let column = columns[k]
                if column.isNull(r) { continue }
                switch column.values {
                case .byteArray(let v): values[f] = .string(v[r])
                case .double(let v): values[f] = .number(v[r])
                case .int64(let v):
                    values[f] = .number(Double(v[r]))
                    if f == timeField { time = v[r] }
                case .boolean(let v): values[f] = .bool(v[r])
                case .int32(let v): values[f] = .number(Double(v[r]))
                case .float(let v): values[f] = .number(Double(v[r]))
                }
            }
            events.append(StoredEvent(event: Event(time: time, values: values), sequence: seq[r], knownAt: known[r]))
        }
        return events
    }
}
