import FeatureCore
import FsmlCore
import Parquet

/// Rows of (context, features, label) gathered into columns and handed to the writer in chunks.
/// Building the columns and encoding them run on a worker thread, beside the replay. For a
/// partition's spill (`ordered`), each row also carries its example's time and sequence, the
/// order the partitions' rows are merged in (`SpillMerge`).
final class RowBuffer {
    let columns: [ParquetColumn]
    let writer: DatasetWriter
    private let worker = SerialWorker(name: "fsml-dataset-writer")
    private var context: [[FieldValue]] = []
    /// `width` per row.
    private var values: [Double] = []
    private let width: Int
    private var labels: [Bool] = []
    private let ordered: Bool
    private var order: [(time: Micros, sequence: Int64)] = []

    init(columns: [ParquetColumn], features: Int, writer: DatasetWriter, ordered: Bool = false) {
        self.columns = columns
        self.writer = writer
        width = features
        self.ordered = ordered
    }

    deinit {
        try? worker.drain()
        worker.stop()
    }

    func append(
        context c: [FieldValue], features f: ArraySlice<Double>, label: Bool, time: Micros, sequence: Int64
    ) throws {
        context.append(c)
        values.append(contentsOf: f)
        labels.append(label)
        if ordered { order.append((time, sequence)) }
        // A row group at a time: the writer then encodes it as it comes, with no concatenation.
        if labels.count >= writer.groupRows { try flush() }
    }

    /// Writes what is buffered and waits until the writer has it.
    func finish() throws {
        try flush()
        try worker.drain()
    }

    private func flush() throws {
        guard !labels.isEmpty else { return }
        let (columns, writer, context, values, labels, width) = (columns, writer, context, values, labels, width)
        let order = order
        self.context = []
        self.values = []
        self.labels = []
        self.order = []
        try worker.submit {
            var batch = Self.batch(columns: columns, context: context, values: values, width: width, labels: labels)
            if !order.isEmpty {
                batch.append(ColumnData(.int64(order.map(\.time))))
                batch.append(ColumnData(.int64(order.map(\.sequence))))
            }
            try writer.append(batch)
        }
    }

    private static func batch(
        columns: [ParquetColumn], context: [[FieldValue]], values: [Double], width: Int, labels: [Bool]
    ) -> [ColumnData] {
        let rows = context.count
        var fields = (0..<context[0].count).map { ContextColumn(columns[$0].physical, rows: rows) }
        // Row by row, each cell straight into its column: one pass, each value copied once.
        for row in context {
            for f in fields.indices { fields[f].append(row[f]) }
        }
        var batch = fields.map { $0.data }
        for k in 0..<width {
            let column = stride(from: k, to: values.count, by: width).map { values[$0] }
            batch.append(ColumnData(.double(column.map { $0.isNaN ? 0 : $0 }), nulls: column.map(\.isNaN)))
        }
        batch.append(ColumnData(.int32(labels.map { $0 ? 1 : 0 })))
        return batch
    }
}

/// One example field as an output column: values of the column's type, with a placeholder and
/// a null where the event has none. (A type the offline layout never has reads as all null.)
private struct ContextColumn {
    let physical: ParquetPhysicalType
    private var strings: [String] = []
    private var doubles: [Double] = []
    private var ints: [Int64] = []
    private var bools: [Bool] = []
    private var nulls: [Bool] = []

    init(_ physical: ParquetPhysicalType, rows: Int) {
        self.physical = physical
        nulls.reserveCapacity(rows)
    }

    mutating func append(_ cell: FieldValue) {
        var isNull = false
        if case .missing = cell { isNull = true }
        switch physical {
        case .byteArray: strings.append(cell.stringValue ?? "")
        case .double: doubles.append(cell.numericValue ?? 0)
        case .int64: ints.append(Int64(cell.numericValue ?? 0))
        case .boolean:
            if case .bool(let b) = cell { bools.append(b) } else { bools.append(false) }
        default:
            strings.append("")
            isNull = true
        }
        nulls.append(isNull)
    }

    var data: ColumnData {
        switch physical {
        case .double: return ColumnData(.double(doubles), nulls: nulls)
        case .int64: return ColumnData(.int64(ints), nulls: nulls)
        case .boolean: return ColumnData(.boolean(bools), nulls: nulls)
        default: return ColumnData(.byteArray(strings), nulls: nulls)
        }
    }
}
