import FsmlCore

/// What `fsml generate events` makes. The same configuration gives the same bytes.
public struct GeneratorConfig: Sendable, Equatable {
    /// Unique events (duplicates and malformed lines come on top).
    public var events = 1_000_000
    public var users = 20_000
    public var products = 2_000
    public var days = 7
    public var seed: UInt64 = 42
    public var start: Micros = Micros(Timestamp.daysFromCivil(year: 2025, month: 1, day: 13)) * Timestamp.microsPerDay
    /// Share of events that arrive minutes after their event time (about a third of them later
    /// than the 10-minute allowed lateness).
    public var lateFraction = 0.02
    /// Share of events sent twice with the same event_id.
    public var duplicateFraction = 0.005
    /// Share of events followed by a corrupted copy (bad JSON, bad timestamp, wrong type...).
    public var malformedFraction = 0.0
    /// zlib level for .gz output; 1 is several times faster than 6 and about 20% larger.
    public var gzipLevel: Int32 = 1

    public init() {}

    public var end: Micros { start + Micros(days) * Timestamp.microsPerDay }
}

/// What a run wrote.
public struct GeneratorSummary: Sendable, Equatable {
    public var lines = 0
    public var events = 0
    public var pageViews = 0
    public var addToCarts = 0
    public var purchases = 0
    public var sessions = 0
    /// Events delivered after their event time by more than a few seconds.
    public var delayed = 0
    /// Of those, delayed by more than the reference 10-minute lateness.
    public var delayedBeyondLateness = 0
    public var duplicates = 0
    public var malformed = 0
    public var bytes = 0

    public init() {}

    mutating func add(_ o: GeneratorSummary) {
        lines += o.lines
        events += o.events
        pageViews += o.pageViews
        addToCarts += o.addToCarts
        purchases += o.purchases
        sessions += o.sessions
        delayed += o.delayed
        delayedBeyondLateness += o.delayedBeyondLateness
        duplicates += o.duplicates
        malformed += o.malformed
    }
}
