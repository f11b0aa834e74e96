/// The partial of `min` and `max`: the extreme value so far, as bits so that "none yet" (a NaN)
/// equals itself. −0 sorts below +0, so the result never depends on which arrived first.
public struct Extreme: Sendable, Equatable {
    var bits: UInt64

    static let none = Extreme(bits: Double.nan.bitPattern)

    var value: Double { Double(bitPattern: bits) }

    /// Keeps `x` when it is below (`lowest`) or above the current extreme, in IEEE total order.
    @inline(__always)
    mutating func offer(_ x: Double, lowest: Bool) {
        guard !x.isNaN else { return }
        let current = value
        if current.isNaN
            || (lowest ? x.isTotallyOrdered(belowOrEqualTo: current) : current.isTotallyOrdered(belowOrEqualTo: x))
        {
            bits = x.bitPattern
        }
    }

    func encode(to writer: inout StateWriter) { writer.fixed64(bits) }

    static func decode(from reader: inout StateReader) throws(StateDecodeError) -> Extreme {
        Extreme(bits: try reader.fixed64())
    }
}

/// `min` and `max`: everything but their name and which end they keep.
public protocol ExtremeAggregator: Aggregator where Partial == Extreme {
    static var keepsLowest: Bool { get }
    var field: Int { get }
    init(field: Int)
}

extension ExtremeAggregator {
    public static var argumentKeys: [String] { ["field"] }
    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        self.init(field: try arguments.field(numeric: true))
    }

    public var identity: String { "\(Self.name)(field: \(field))" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name)]
    }
    public var fieldsRead: Set<Int> { [field] }

    public var empty: Extreme { .none }
    public func update(_ partial: inout Extreme, with event: Event) {
        if let x = event.values[field].numericValue { partial.offer(x, lowest: Self.keepsLowest) }
    }
    public func merge(_ partial: inout Extreme, with other: Extreme) {
        partial.offer(other.value, lowest: Self.keepsLowest)
    }
    public func finalize(_ partial: Extreme) -> Double { partial.value }
    public func encode(_ partial: Extreme, to writer: inout StateWriter) { partial.encode(to: &writer) }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> Extreme {
        try Extreme.decode(from: &reader)
    }
}
