/// The partial of `top_k` and `bottom_k`: at most k values, best first, in IEEE total order (so
/// that −0 and +0 rank the same way whatever the arrival order).
public struct RankedValues: Sendable, Equatable {
    public var values: [Double] = []

    public static func == (a: RankedValues, b: RankedValues) -> Bool {
        a.values.map(\.bitPattern) == b.values.map(\.bitPattern)
    }

    @inline(__always)
    static func ranksBefore(_ a: Double, _ b: Double, largest: Bool) -> Bool {
        largest ? !a.isTotallyOrdered(belowOrEqualTo: b) : !b.isTotallyOrdered(belowOrEqualTo: a)
    }

    mutating func offer(_ x: Double, k: Int, largest: Bool) {
        guard !x.isNaN else { return }
        if values.count == k, let worst = values.last, !Self.ranksBefore(x, worst, largest: largest) { return }
        var lo = 0
        var hi = values.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Self.ranksBefore(x, values[mid], largest: largest) { hi = mid } else { lo = mid + 1 }
        }
        values.insert(x, at: lo)
        if values.count > k { values.removeLast() }
    }

    func encode(to writer: inout StateWriter) {
        writer.varint(UInt64(values.count))
        for x in values { writer.fixed64(x.bitPattern) }
    }

    static func decode(from reader: inout StateReader, k: Int) throws(StateDecodeError) -> RankedValues {
        let count = try reader.count(ofItemsOfSize: 8)
        guard count <= k else { throw StateDecodeError("corrupt state: \(count) values of at most \(k)") }
        var out = RankedValues()
        for _ in 0..<count {
            let x = Double(bitPattern: try reader.fixed64())
            guard !x.isNaN else { throw StateDecodeError("corrupt state: a ranked value is NaN") }
            out.values.append(x)
        }
        return out
    }
}

/// `top_k` and `bottom_k`: everything but their name and which end they keep.
public protocol RankedKAggregator: Aggregator where Partial == RankedValues {
    /// Whether the largest values are kept (`top_k`) rather than the smallest.
    static var keepsLargest: Bool { get }
    var field: Int { get }
    var k: Int { get }
    /// Which element this feature is (0-based); nil before the definition is expanded.
    var output: Int? { get }
    init(field: Int, k: Int, output: Int?)
}

extension RankedKAggregator {
    public static var argumentKeys: [String] { ["field", "k"] }

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        self.init(field: try arguments.field(numeric: true), k: try arguments.integer("k", in: 1...100), output: nil)
    }

    public var stateIdentity: String { "\(Self.name)(field: \(field), k: \(k))" }
    public var identity: String { "\(stateIdentity)[\(output ?? -1)]" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("k", "\(k)")]
    }
    public var fieldsRead: Set<Int> { [field] }
    public var outputs: [any Aggregator] { (0..<k).map { Self(field: field, k: k, output: $0) } }
    public var outputSuffix: String { output.map { "_\($0 + 1)" } ?? "" }

    public var empty: RankedValues { RankedValues() }
    public func update(_ partial: inout RankedValues, with event: Event) {
        if let x = event.values[field].numericValue { partial.offer(x, k: k, largest: Self.keepsLargest) }
    }
    public func merge(_ partial: inout RankedValues, with other: RankedValues) {
        for x in other.values { partial.offer(x, k: k, largest: Self.keepsLargest) }
    }
    public func finalize(_ partial: RankedValues) -> Double {
        guard let i = output, i < partial.values.count else { return .nan }
        return partial.values[i]
    }
    public func encode(_ partial: RankedValues, to writer: inout StateWriter) { partial.encode(to: &writer) }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> RankedValues {
        try RankedValues.decode(from: &reader, k: k)
    }
}
