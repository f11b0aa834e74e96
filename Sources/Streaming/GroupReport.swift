import Foundation
import FsmlCore
import OfflineStorage

/// What one consumer-group member did in one run, for its summary and for benchmarks. The group's
/// exact totals are in the shards (`GroupProgress`): a member's counts include what it read again
/// after taking over a partition from a member that died.
public struct GroupReport: Sendable {
    /// Counts of the lines this member folded, over every partition it held.
    public var counts = IntakeCounts()
    public var seconds = 0.0
    public var cpuSeconds = 0.0
    public var statesWritten = 0
    public var checkpoints = 0
    /// Rebalance callbacks (assignments and revocations) this member took part in.
    public var rebalances = 0
    public var partitionsRestored = 0
    public var partitionsHandedOver = 0
    public var partitionsLost = 0
    /// Partitions found taken over by another member when this one published for them (it had
    /// stalled past its session: see `PartitionLease`); counted among the lost too.
    public var partitionsFenced = 0
    /// Time spent restoring shards of assigned partitions, and writing shards of revoked ones.
    public var restoreSeconds = 0.0
    public var handOverSeconds = 0.0
    /// The longest wait from a partition's assignment to its first event folded here (includes
    /// the fetch; only partitions with events waiting).
    public var maxFirstEventSeconds = 0.0
    /// Messages a partition's shard expected that the topic no longer had (deleted by retention).
    public var skippedMessages = 0
    /// Wall-clock instants (µs) of each partition leaving this member (revoked or lost) and of
    /// each partition's first event after it came, so that a benchmark can pair one member's
    /// release with the next owner's first event: the pause that partition saw.
    public var handedOver: [(partition: Int32, at: Micros)] = []
    public var firstEvents: [(partition: Int32, at: Micros)] = []
    /// Wall-clock instants (µs) of the first and the last line this member folded: its busy span,
    /// without the time it spent joining the group or waiting at the end.
    public var firstLineAt: Micros?
    public var lastLineAt: Micros?

    public init() {}

    public var linesPerSecond: Double { seconds > 0 ? Double(counts.lines) / seconds : 0 }

    public func json() -> JSONValue {
        .object([
            ("lines", .int(counts.lines)), ("admitted", .int(counts.admitted)), ("late", .int(counts.late)),
            ("duplicates", .int(counts.duplicates)), ("dead_letters", .int(counts.deadLetters)),
            ("seconds", .number(seconds)), ("lines_per_second", .number(linesPerSecond)),
            ("cpu_seconds", .number(cpuSeconds)), ("states_written", .int(statesWritten)),
            ("checkpoints", .int(checkpoints)), ("rebalances", .int(rebalances)),
            ("partitions_restored", .int(partitionsRestored)),
            ("partitions_handed_over", .int(partitionsHandedOver)), ("partitions_lost", .int(partitionsLost)),
            ("partitions_fenced", .int(partitionsFenced)),
            ("restore_seconds", .number(restoreSeconds)), ("hand_over_seconds", .number(handOverSeconds)),
            ("max_first_event_seconds", .number(maxFirstEventSeconds)), ("skipped_messages", .int(skippedMessages)),
            ("handed_over", .array(handedOver.map { .array([.int(Int($0.partition)), .int(Int($0.at))]) })),
            ("first_events", .array(firstEvents.map { .array([.int(Int($0.partition)), .int(Int($0.at))]) })),
            ("first_line_at_us", firstLineAt.map { .int(Int($0)) } ?? .null),
            ("last_line_at_us", lastLineAt.map { .int(Int($0)) } ?? .null),
        ])
    }

    /// This process's user and system CPU seconds so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }
}

extension IntakeCounts {
    /// The sum of two sets of counts (`waiting` too: the lines waiting in either).
    public func plus(_ other: IntakeCounts) -> IntakeCounts {
        var s = IntakeCounts()
        s.lines = lines + other.lines
        s.admitted = admitted + other.admitted
        s.late = late + other.late
        s.duplicates = duplicates + other.duplicates
        s.deadLetters = deadLetters + other.deadLetters
        s.waiting = waiting + other.waiting
        return s
    }
}
