import FsmlCore

/// `approx_unique_count` of a field: the number of distinct non-missing values, estimated by a
/// HyperLogLog sketch of 2^precision registers (default precision 12: 4 KiB at most per tile,
/// standard error 1.04 / √4096 = 1.6 %; few values take a few bytes). Below about 2.5 · 2^p values the
/// estimate uses linear counting and is usually exact for small counts.
public struct ApproxUniqueCountAggregator: Aggregator {
    public static let name = "approx_unique_count"
    public static let argumentKeys = ["field", "precision"]
    public let field: Int
    public let precision: Int

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: false)
        precision = try arguments.integer("precision", in: 4...16, default: 12)
    }

    public var identity: String { "hll(field: \(field), p: \(precision))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("precision", "\(precision)")]
    }
    public var fieldsRead: Set<Int> { [field] }

    public var empty: HyperLogLog { HyperLogLog() }
    public func update(_ partial: inout HyperLogLog, with event: Event) {
        // Mixed again: a bool hashes to 1 or 2, which a sketch cannot route.
        if let h = DistinctCountAggregator.hash(event.values[field]) {
            partial.add(hash: StableHash.mix(h), p: precision)
        }
    }
    public func merge(_ partial: inout HyperLogLog, with other: HyperLogLog) { partial.merge(other, p: precision) }
    public func finalize(_ partial: HyperLogLog) -> Double { partial.estimate(p: precision) }
    public func encode(_ partial: HyperLogLog, to writer: inout StateWriter) { partial.encode(to: &writer) }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> HyperLogLog {
        try HyperLogLog.decode(from: &reader, p: precision)
    }
}
