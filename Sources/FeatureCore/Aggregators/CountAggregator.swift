/// `count`: the number of events.
public struct CountAggregator: Aggregator {
    public static let name = "count"

    public init() {}
    public init(arguments: inout AggregatorArguments) {}

    public var identity: String { "count" }

    public var empty: Int64 { 0 }
    public func update(_ partial: inout Int64, with event: Event) { partial &+= 1 }
    public func merge(_ partial: inout Int64, with other: Int64) { partial &+= other }
    public func finalize(_ partial: Int64) -> Double { Double(partial) }
    public func encode(_ partial: Int64, to writer: inout StateWriter) { writer.zigzag(partial) }
    public func decayTerm(_ event: Event) -> Double? { 1 }
    public static let decays = true
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> Int64 { try reader.zigzag() }
}
