/// `avg` of a numeric field: the sum of its values over how many there are, both kept exactly
/// (the sum in micro-units, as `sum` keeps it), so the mean has the same bits in any order.
/// Missing values are skipped; NaN when there is none.
public struct AvgAggregator: Aggregator {
    public struct Mean: Sendable, Equatable {
        public var count: Int64
        public var sum: WideSum
    }

    public static let name = "avg"
    public static let argumentKeys = ["field"]
    public let field: Int

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: true)
    }

    public var identity: String { "avg(field: \(field))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name)]
    }
    public var fieldsRead: Set<Int> { [field] }

    public var empty: Mean { Mean(count: 0, sum: .zero) }
    public func update(_ partial: inout Mean, with event: Event) {
        guard let x = event.values[field].numericValue, !x.isNaN else { return }
        partial.count &+= 1
        partial.sum += WideSum(SumAggregator.fixedPoint(x))
    }
    public func merge(_ partial: inout Mean, with other: Mean) {
        partial.count &+= other.count
        partial.sum += other.sum
    }
    public func finalize(_ partial: Mean) -> Double {
        partial.count == 0 ? .nan : partial.sum.double / SumAggregator.scale / Double(partial.count)
    }
    public func encode(_ partial: Mean, to writer: inout StateWriter) {
        writer.varint(UInt64(partial.count))
        writer.zigzag(partial.sum)
    }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> Mean {
        let count = try reader.varint()
        guard count < 1 << 62 else { throw StateDecodeError("corrupt state: count out of range") }
        return Mean(count: Int64(count), sum: try reader.wideZigzag())
    }
}
