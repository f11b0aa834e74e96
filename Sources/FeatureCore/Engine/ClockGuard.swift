import FsmlCore

/// How far an event may move the stream clock on its own. Read from fsml.yaml (`max_clock_jump`,
/// `clock_jump_quorum`); see docs/semantics.md §1.
public struct ClockJumpRule: Sendable, Equatable {
    /// An event dated more than this after the clock waits for confirmation.
    public var maxJump: Micros
    /// How many waiting events, dated within `maxJump` of one another, confirm a jump.
    public var quorum: Int

    /// A waiting event that this many admitted events have passed without confirming it is a dead
    /// letter.
    public static let patience = 100
    public static let standard = ClockJumpRule(maxJump: Timestamp.microsPerDay, quorum: 8)

    public init(maxJump: Micros, quorum: Int) {
        self.maxJump = maxJump
        self.quorum = quorum
    }
}

/// Keeps one event dated far in the future, or a handful, from moving the stream clock (after
/// which every valid event would be late, and the server would answer as of that future).
///
/// The clock is the largest admitted event time. An event dated more than `maxJump` after it, or
/// any event before the clock exists (the start of a stream), is not admitted on arrival: it waits
/// here. It is released, and admitted as if it arrived then, when
/// - `quorum` waiting events lie within `maxJump` of one another: the first events of a stream,
///   which start the clock, or a real jump (a stream resuming after a gap), which moves it; or
/// - the clock has caught up, so that it is no longer more than `maxJump` ahead (it is then
///   admitted as an event arriving at that moment with its time would be).
/// It is a dead letter when `patience` events have been admitted since it arrived without any of
/// these happening, or at the end of the input (where a stream of fewer than `quorum` events starts
/// its clock at their median). Every decision depends on the arrival order alone, so the stream
/// job, a batch ingest and a replay of the same lines decide alike.
public struct ClockGuard<Item> {
    public struct Waiting {
        public let item: Item
        public let time: Micros
        /// Events admitted since it arrived.
        public var passedBy: Int

        public init(item: Item, time: Micros, passedBy: Int = 0) {
            self.item = item
            self.time = time
            self.passedBy = passedBy
        }
    }

    public let rule: ClockJumpRule
    /// In arrival order.
    public private(set) var waiting: [Waiting]

    public init(rule: ClockJumpRule, waiting: [Waiting] = []) {
        self.rule = rule
        self.waiting = waiting
    }

    /// Whether an event at `time` must wait, given the clock.
    @inline(__always)
    public func mustWait(_ time: Micros, clock: Micros) -> Bool { Self.isAhead(time, clock: clock, rule: rule) }

    @inline(__always)
    static func isAhead(_ time: Micros, clock: Micros, rule: ClockJumpRule) -> Bool {
        clock == .min || (time > clock && time - clock > rule.maxJump)
    }

    /// Takes an event that must wait; returns the waiting events it releases, in arrival order:
    /// the group of `quorum` within `maxJump` of one another that it completes, if it does.
    public mutating func hold(_ item: Item, time: Micros) -> [Waiting] {
        waiting.append(Waiting(item: item, time: time))
        guard waiting.count >= rule.quorum, let group = earliestGroup(minimumSize: rule.quorum) else { return [] }
        return take { $0.time >= group.lowerBound && $0.time <= group.upperBound }
    }

    /// Starts the clock at the median of the waiting times: releases what is not more than
    /// `maxJump` after it.
    private mutating func start() -> [Waiting] {
        let times = waiting.map(\.time).sorted()
        return caughtUp(clock: times[(times.count - 1) / 2])
    }

    /// After an event was admitted (the clock is now `clock`): the waiting events that are no
    /// longer ahead, to release, and those that waited too long, to reject; both in arrival order.
    public mutating func passed(clock: Micros) -> (release: [Waiting], expired: [Waiting]) {
        guard !waiting.isEmpty else { return ([], []) }
        for i in waiting.indices { waiting[i].passedBy += 1 }
        let release = caughtUp(clock: clock)
        let expired = take { $0.passedBy >= ClockJumpRule.patience }
        return (release, expired)
    }

    /// After a jump moved the clock: the waiting events that are no longer ahead.
    public mutating func caughtUp(clock: Micros) -> [Waiting] {
        let rule = rule
        return take { !Self.isAhead($0.time, clock: clock, rule: rule) }
    }

    /// The end of the input. Without a clock yet (fewer events than a quorum), the clock starts
    /// at the median of what waits, and what is near it is released; what still waits after that
    /// is to be rejected, which the caller does once it has admitted the released events.
    public mutating func finish(clock: Micros) -> [Waiting] {
        guard clock == .min, !waiting.isEmpty else { return [] }
        return start()
    }

    /// Everything still waiting, removed.
    public mutating func rejectAll() -> [Waiting] { take { _ in true } }

    /// The time range of the largest set of waiting events within `maxJump` of one another (the
    /// earliest among the largest), when it has at least `minimumSize` events.
    private func earliestGroup(minimumSize: Int) -> ClosedRange<Micros>? {
        let times = waiting.map(\.time).sorted()
        var best: (size: Int, range: ClosedRange<Micros>)?
        var lo = 0
        for hi in times.indices {
            while times[hi] - times[lo] > rule.maxJump { lo += 1 }
            let size = hi - lo + 1
            if size >= minimumSize, size > (best?.size ?? 0) { best = (size, times[lo]...times[hi]) }
        }
        return best?.range
    }

    private mutating func take(where matches: (Waiting) -> Bool) -> [Waiting] {
        var taken: [Waiting] = []
        waiting.removeAll { w in
            guard matches(w) else { return false }
            taken.append(w)
            return true
        }
        return taken
    }
}
