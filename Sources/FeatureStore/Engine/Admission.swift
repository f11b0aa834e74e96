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
public struct Admission: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        case admitted(knownAt: Micros)
        case late(watermark: Micros)
        case duplicate
    }

    public let lateness: Micros
    public private(set) var clock: Micros = .min
    /// Admitted event ids not yet below the watermark, with their event times.
    public private(set) var recent: [String: Micros] = [:]
    private var pruneAt = 4096

    public init(lateness: Micros) { self.lateness = lateness }

    public var watermark: Micros { clock == .min ? .min : clock - lateness }

    public mutating func admit(id: String, time: Micros) -> Decision {
        let w = watermark
        if time < w { return .late(watermark: w) }
        if let seen = recent[id], seen >= w { return .duplicate }
        recent[id] = time
        if time > clock { clock = time }
        if recent.count >= pruneAt { prune() }
        return .admitted(knownAt: clock)
    }

    /// Forgets ids below the watermark. A forgotten id's next occurrence is late anyway unless it
    /// carries a newer time, and such an event is admitted whether or not it was forgotten.
    public mutating func prune() {
        let w = watermark
        recent = recent.filter { $0.value >= w }
        pruneAt = max(4096, recent.count * 2)
    }

    /// Restores a checkpointed state.
    public init(lateness: Micros, clock: Micros, recent: [String: Micros]) {
        self.lateness = lateness
        self.clock = clock
        self.recent = recent
        pruneAt = max(4096, recent.count * 2)
    }

    public static func == (a: Admission, b: Admission) -> Bool {
        a.lateness == b.lateness && a.clock == b.clock
            && a.recent.filter { $0.value >= a.watermark }
                == b.recent.filter { $0.value >= b.watermark }
    }
}
