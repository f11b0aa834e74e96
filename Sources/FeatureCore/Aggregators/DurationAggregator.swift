import FsmlCore

/// `duration`: seconds from the earliest to the latest event; missing when there is none.
public struct DurationAggregator: Aggregator {
    public struct Span: Sendable, Equatable {
        public var earliest: Micros
        public var latest: Micros
    }

    public static let name = "duration"

    public init() {}
    public init(arguments: inout AggregatorArguments) {}

    public var identity: String { "span" }

    public var empty: Span? { nil }

    public func update(_ partial: inout Span?, with event: Event) {
        merge(&partial, with: Span(earliest: event.time, latest: event.time))
    }

    public func merge(_ partial: inout Span?, with other: Span?) {
        guard let other else { return }
        guard let p = partial else { return partial = other }
        partial = Span(earliest: min(p.earliest, other.earliest), latest: max(p.latest, other.latest))
    }

    public func finalize(_ partial: Span?) -> Double {
        guard let p = partial else { return .nan }
        return Double(p.latest - p.earliest) / Double(Timestamp.microsPerSecond)
    }

    /// A presence byte, then both times relative to the state's latest event.
    public func encode(_ partial: Span?, to writer: inout StateWriter) {
        guard let p = partial else { return writer.byte(0) }
        writer.byte(1)
        writer.time(p.earliest)
        writer.time(p.latest)
    }

    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> Span? {
        guard try reader.byte() != 0 else { return nil }
        return Span(earliest: try reader.time(), latest: try reader.time())
    }
}
