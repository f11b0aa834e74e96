/// `bounded_unique_count` of a field: the number of distinct non-missing values, exact up to the
/// bound `k` (default 100) and k beyond it, in at most k hashes of state. The state keeps the k
/// smallest 64-bit value hashes, which does not depend on arrival order and merges exactly (the
/// k smallest of a union are among the k smallest of each part).
public struct BoundedUniqueCountAggregator: Aggregator {
    public static let name = "bounded_unique_count"
    public static let argumentKeys = ["field", "k"]
    public let field: Int
    public let k: Int

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: false)
        k = try arguments.integer("k", in: 1...100_000, default: 100)
    }

    public var identity: String { "bounded_unique(field: \(field), k: \(k))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("k", "\(k)")]
    }
    public var fieldsRead: Set<Int> { [field] }

    /// Ascending hashes, at most k.
    public var empty: [UInt64] { [] }

    public func update(_ partial: inout [UInt64], with event: Event) {
        guard let h = DistinctCountAggregator.hash(event.values[field]) else { return }
        KSmallest.insert(h, into: &partial, k: k)
    }
    public func merge(_ partial: inout [UInt64], with other: [UInt64]) {
        for h in other { KSmallest.insert(h, into: &partial, k: k) }
    }
    public func finalize(_ partial: [UInt64]) -> Double { Double(partial.count) }
    public func encode(_ partial: [UInt64], to writer: inout StateWriter) { KSmallest.encode(partial, to: &writer) }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> [UInt64] {
        try KSmallest.decode(from: &reader, k: k)
    }
}

/// The k smallest distinct hashes, ascending.
enum KSmallest {
    @inline(__always)
    static func insert(_ h: UInt64, into list: inout [UInt64], k: Int) {
        if list.count == k, let last = list.last, h >= last { return }
        var lo = 0
        var hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if list[mid] < h { lo = mid + 1 } else { hi = mid }
        }
        if lo < list.count && list[lo] == h { return }
        list.insert(h, at: lo)
        if list.count > k { list.removeLast() }
    }

    static func encode(_ list: [UInt64], to writer: inout StateWriter) {
        writer.varint(UInt64(list.count))
        for h in list { writer.fixed64(h) }
    }

    static func decode(from reader: inout StateReader, k: Int) throws(StateDecodeError) -> [UInt64] {
        let count = try reader.count(ofItemsOfSize: 8)
        guard count <= k else { throw StateDecodeError("corrupt state: \(count) hashes of at most \(k)") }
        var list: [UInt64] = []
        list.reserveCapacity(count)
        for _ in 0..<count {
            let h = try reader.fixed64()
            guard list.last.map({ $0 < h }) ?? true else {
                throw StateDecodeError("corrupt state: hashes out of order")
            }
            list.append(h)
        }
        return list
    }
}
