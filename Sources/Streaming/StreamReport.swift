import FsmlCore
import OfflineStorage

/// How a stream job started.
public enum StreamStart: Sendable, Equatable {
    case fresh
    /// From its checkpoint, which had taken this many lines.
    case resumed(line: Int)
    /// From the offline store's events, replayed into the engine.
    case bootstrapped(events: Int)
}

/// What a stream job did, for its summary and for benchmarks.
public struct StreamReport: Sendable {
    public var start = StreamStart.fresh
    /// Counts of this run, and of the job's whole life (as of the last checkpoint).
    public var counts = IntakeCounts()
    public var totals = IntakeCounts()
    var totalsAtStart = IntakeCounts()
    public var seconds = 0.0
    public var statesWritten = 0
    public var flushes = 0
    public var checkpoints = 0
    /// Entity states held at the last checkpoint, and their encoded bytes.
    public var entities = 0
    public var stateBytes = 0
    public var watermark = Micros.min
    /// Seconds from reading an admitted event to its states being written online (sampled).
    public var freshness = LatencySample()
    /// Seconds per micro-batch write to the online store.
    public var onlineWrite = LatencySample()

    public init() {}

    public var linesPerSecond: Double { seconds > 0 ? Double(counts.lines) / seconds : 0 }

    public func json() -> JSONValue {
        func quantiles(_ s: LatencySample) -> JSONValue {
            guard let q = s.quantiles([0.5, 0.99]) else { return .null }
            return .object([
                ("count", .int(s.count)), ("p50_ms", .number(q[0] * 1000)), ("p99_ms", .number(q[1] * 1000)),
                ("max_ms", .number(s.maximum * 1000)),
            ])
        }
        let startText: JSONValue
        switch start {
        case .fresh: startText = .object([("kind", .string("fresh"))])
        case .resumed(let line): startText = .object([("kind", .string("resumed")), ("line", .int(line))])
        case .bootstrapped(let events):
            startText = .object([("kind", .string("bootstrapped")), ("events", .int(events))])
        }
        return .object([
            ("start", startText), ("seconds", .number(seconds)), ("lines", .int(counts.lines)),
            ("lines_per_second", .number(linesPerSecond)), ("admitted", .int(counts.admitted)),
            ("late", .int(counts.late)),
            ("duplicates", .int(counts.duplicates)), ("dead_letters", .int(counts.deadLetters)),
            ("waiting", .int(counts.waiting)), ("states_written", .int(statesWritten)), ("flushes", .int(flushes)),
            ("checkpoints", .int(checkpoints)),
            ("entities", .int(entities)), ("state_bytes", .int(stateBytes)),
            ("watermark", watermark == .min ? .null : .string(Timestamp.format(watermark))),
            ("freshness", quantiles(freshness)), ("online_write", quantiles(onlineWrite)),
            ("peak_rss_bytes", .int(peakRSSBytes())),
            (
                "totals",
                .object([
                    ("lines", .int(totals.lines)), ("admitted", .int(totals.admitted)), ("late", .int(totals.late)),
                    ("duplicates", .int(totals.duplicates)), ("dead_letters", .int(totals.deadLetters)),
                    ("waiting", .int(totals.waiting)),
                ])
            ),
        ])
    }
}
