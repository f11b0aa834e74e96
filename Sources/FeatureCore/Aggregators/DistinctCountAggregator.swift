import FsmlCore

/// `distinct_count` of a field: the number of distinct non-missing values, kept as 64-bit hashes
/// that are stable across processes.
public struct DistinctCountAggregator: Aggregator {
    public static let name = "distinct_count"
    public static let argumentKeys = ["field"]
    public static let writesEveryTile = true
    public let field: Int

    public init(field: Int) { self.field = field }
    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: false)
    }

    public var identity: String { "distinct(field: \(field))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name)]
    }
    public var fieldsRead: Set<Int> { [field] }

    public var empty: Set<UInt64> { [] }

    public func update(_ partial: inout Set<UInt64>, with event: Event) {
        if let h = Self.hash(event.values[field]) { partial.insert(h) }
    }

    public func merge(_ partial: inout Set<UInt64>, with other: Set<UInt64>) { partial.formUnion(other) }
    public func finalize(_ partial: Set<UInt64>) -> Double { Double(partial.count) }

    /// The count, then the hashes in ascending order, so that equal sets give equal bytes.
    public func encode(_ partial: Set<UInt64>, to writer: inout StateWriter) {
        writer.varint(UInt64(partial.count))
        for h in partial.sorted() { writer.fixed64(h) }
    }

    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> Set<UInt64> {
        let count = try reader.count(ofItemsOfSize: 8)
        var set = Set<UInt64>(minimumCapacity: count)
        for _ in 0..<count { set.insert(try reader.fixed64()) }
        return set
    }

    /// A missing value is not a value and is not counted.
    @inline(__always)
    static func hash(_ v: FieldValue) -> UInt64? {
        switch v {
        case .string(let s): return StableHash.hash(s)
        case .number(let x): return StableHash.mix(x.bitPattern)
        case .bool(let b): return b ? 1 : 2
        case .missing: return nil
        }
    }
}
