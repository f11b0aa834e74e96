import FsmlCore

/// Decides, event by event in arrival order, which events are folded: the watermark rule for late
/// events and event-id deduplication. The stream job and the batch ingest share it, so a replay of
/// the same arrival order reaches the same decisions, which is what makes the offline store agree
/// with the online one.
///
/// - The clock is the largest event time admitted so far.
/// - The watermark is clock − allowed lateness. An event older than the watermark is late.
/// - An event whose id was admitted before, with an event time not older than the watermark, is a
///   duplicate. Ids older than the watermark are forgotten; the rule is written so that when they
///   are forgotten never changes a decision.
/// - An admitted event becomes known at the clock after its arrival: `knownAt` = max(clock, time).
///
/// From a partitioned source (Kafka) events come as several streams, each in order, interleaved
/// however the consumer fetched them. There the watermark follows the slowest active partition
/// (`PartitionClocks`), so that catching up on a backlog does not make a partition's events late
/// because another partition was read first. `maxLag` records how far behind the clock an admitted
/// event has been, which a point-in-time build needs to restore event-time order.
public struct Admission: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        case admitted(knownAt: Micros)
        case late(watermark: Micros)
        case duplicate
    }

    public let lateness: Micros
    public private(set) var clock: Micros = .min
    /// Admitted event ids, each with its event time at the same index of `times`: an open-addressing
    /// table that stores a hash tag per id and compares the text only on a tag match, and that
    /// forgets ids in place. Ids below the watermark may linger until the next `prune`.
    private var ids = EntityKeyTable()
    private var times: [Micros] = []
    /// The largest clock − event time of an admitted event (at most `lateness` unless partitioned).
    public private(set) var maxLag: Micros = 0
    /// Per-partition clocks; nil for a single stream.
    public private(set) var partitions: PartitionClocks?
    private var pruneAt = 4096

    public init(lateness: Micros) { self.lateness = lateness }

    public var watermark: Micros {
        let c = partitions?.floor ?? clock
        return c == .min ? .min : c - lateness
    }

    public mutating func admit(id: String, time: Micros, partition: Int32? = nil) -> Decision {
        if let partition {
            if partitions == nil { partitions = PartitionClocks() }
            partitions!.activate(partition)
        }
        let w = watermark
        if time < w { return .late(watermark: w) }
        let (at, added) = entry(id, time: time)
        if !added {
            if times[at] >= w { return .duplicate }
            times[at] = time
        }
        if time > clock { clock = time }
        if clock - time > maxLag { maxLag = clock - time }
        if let partition { partitions!.advance(partition, to: time) }
        if ids.count >= pruneAt { prune() }
        return .admitted(knownAt: clock)
    }

    /// Where `id` is remembered, added with `time` when it is not.
    @inline(__always)
    private mutating func entry(_ id: String, time: Micros) -> (at: Int, added: Bool) {
        let (slot, added) = ids.id(id, hash: EntityKeyTable.hash(id))
        let at = Int(slot)
        if added {
            // The table hands out the ids of forgotten entries again before new ones.
            if at == times.count { times.append(time) } else { times[at] = time }
        }
        return (at, added)
    }

    /// The partitions the source now reads from (after a rebalance): only they hold the watermark back.
    public mutating func assign(_ assigned: Set<Int32>) {
        if partitions == nil { partitions = PartitionClocks() }
        partitions!.assign(assigned)
    }

    /// A partition with nothing more to read for now stops holding the watermark back.
    public mutating func idle(_ partition: Int32) { partitions?.idle(partition) }

    /// Forgets ids below the watermark. A forgotten id's next occurrence is late anyway unless it
    /// carries a newer time, and such an event is admitted whether or not it was forgotten.
    public mutating func prune() {
        let w = watermark
        for at in ids.live.indices where ids.live[at] && times[at] < w { ids.remove(id: Int32(at)) }
        pruneAt = max(4096, ids.count * 2)
    }

    /// Admitted event ids not yet forgotten, with their event times (some may be below the
    /// watermark: `prune` forgets those).
    public var recent: [String: Micros] {
        var all: [String: Micros] = [:]
        for at in ids.live.indices where ids.live[at] { all[ids.keys[at]] = times[at] }
        return all
    }

    /// Restores a checkpointed state.
    public init(
        lateness: Micros, clock: Micros, recent: [String: Micros], maxLag: Micros = 0,
        partitions: PartitionClocks? = nil
    ) {
        self.lateness = lateness
        self.clock = clock
        for (id, time) in recent { _ = entry(id, time: time) }
        self.maxLag = maxLag
        self.partitions = partitions
        pruneAt = max(4096, recent.count * 2)
    }

    public static func == (a: Admission, b: Admission) -> Bool {
        a.lateness == b.lateness && a.clock == b.clock && a.maxLag == b.maxLag && a.partitions == b.partitions
            && a.recent.filter { $0.value >= a.watermark }
                == b.recent.filter { $0.value >= b.watermark }
    }
}

/// The watermark clock of a partitioned source: each partition's largest admitted event time, and
/// a floor that follows the slowest active partition and never goes back. A partition that has
/// been assigned but has sent nothing yet holds the floor where it is; one that is idle (read to
/// its end) or no longer assigned does not hold it.
public struct PartitionClocks: Sendable, Equatable {
    public private(set) var clocks: [Int32: Micros] = [:]
    public private(set) var active: Set<Int32> = []
    public private(set) var floor: Micros = .min

    public init(clocks: [Int32: Micros] = [:], floor: Micros = .min) {
        self.clocks = clocks
        self.floor = floor
    }

    mutating func activate(_ p: Int32) {
        if active.insert(p).inserted { raise() }
    }

    mutating func advance(_ p: Int32, to time: Micros) {
        let before = clocks[p] ?? .min
        guard time > before else { return }
        clocks[p] = time
        // Only the slowest partition moves the floor.
        if before <= floor || active.count == 1 { raise() }
    }

    mutating func assign(_ assigned: Set<Int32>) {
        active = assigned
        raise()
    }

    mutating func idle(_ p: Int32) {
        if active.remove(p) != nil { raise() }
    }

    private mutating func raise() {
        guard !active.isEmpty else { return }
        var slowest = Micros.max
        for p in active { slowest = min(slowest, clocks[p] ?? .min) }
        if slowest > floor { floor = slowest }
    }

    /// Equal clocks and floor; the active set is the source's current view, not state.
    public static func == (a: PartitionClocks, b: PartitionClocks) -> Bool {
        a.clocks == b.clocks && a.floor == b.floor
    }
}
