import FsmlCore

/// `time_since_last`: seconds from the latest event the window holds to the as-of time t; NaN
/// when it holds none. With a filter, the latest matching event ("seconds since the last
/// order").
public struct TimeSinceLastAggregator: Aggregator {
    public static let name = "time_since_last"

    public init() {}
    public init(arguments: inout AggregatorArguments) {}

    public var identity: String { "latest_time" }

    /// The latest event time; `.min` for none.
    public var empty: Micros { .min }
    public func update(_ partial: inout Micros, with event: Event) { partial = max(partial, event.time) }
    public func merge(_ partial: inout Micros, with other: Micros) { partial = max(partial, other) }
    public func finalize(_ partial: Micros) -> Double { .nan }
    public func finalize(_ partial: Micros, asOf t: Micros) -> Double {
        partial == .min ? .nan : Double(t - partial) / Double(Timestamp.microsPerSecond)
    }

    /// A presence byte, then the time relative to the state's latest event.
    public func encode(_ partial: Micros, to writer: inout StateWriter) {
        guard partial != .min else { return writer.byte(0) }
        writer.byte(1)
        writer.time(partial)
    }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> Micros {
        try reader.byte() == 0 ? .min : try reader.time()
    }
}
