import FeatureCore
import FsmlCore

/// Counts of what happened to incoming lines.
public struct IntakeCounts: Sendable, Equatable {
    public var lines = 0
    public var admitted = 0
    public var late = 0
    public var duplicates = 0
    public var deadLetters = 0
    /// Lines dated too far ahead of the clock, waiting for other events to confirm the jump.
    public var waiting = 0

    public init() {}

    /// The counts since `earlier` (`waiting` is a level, not a total: the current one).
    public func minus(_ earlier: IntakeCounts) -> IntakeCounts {
        var d = IntakeCounts()
        d.lines = lines - earlier.lines
        d.admitted = admitted - earlier.admitted
        d.late = late - earlier.late
        d.duplicates = duplicates - earlier.duplicates
        d.deadLetters = deadLetters - earlier.deadLetters
        d.waiting = waiting
        return d
    }
}

/// Where a line came from, for the reject logs: the source and the line's number (or offset) there.
public struct Origin: Sendable, Equatable {
    public var source: String
    public var line: Int

    public init(source: String, line: Int) {
        self.source = source
        self.line = line
    }
}

/// What the intake hands on: admitted events, and the lines it rejects with their reasons.
public protocol IntakeSink {
    mutating func admitted(_ event: StoredEvent) throws
    mutating func late(_ event: Event, watermark: Micros, raw: UnsafeRawBufferPointer, origin: Origin) throws
    mutating func deadLetter(reason: String, raw: UnsafeRawBufferPointer, origin: Origin) throws
}

/// A line that waits for its clock jump to be confirmed (`ClockGuard`), with what its release or
/// rejection needs.
public struct WaitingLine: Sendable, Equatable {
    public var event: Event
    public var raw: [UInt8]
    public var origin: Origin
    public var partition: Int32?

    public init(event: Event, raw: [UInt8], origin: Origin, partition: Int32?) {
        self.event = event
        self.raw = raw
        self.origin = origin
        self.partition = partition
    }
}

/// The first steps every event takes, in the stream job and in batch ingest alike: parse and
/// validate (dead letters for failures), the clock guard (events dated too far ahead wait for
/// confirmation), admission (late events logged, duplicates counted), then a sequence number and
/// the instant it became known. Sharing this code is what makes the offline store's decisions the
/// online store's decisions.
public struct Intake {
    public let schema: EventSchema
    public let parser: EventParser
    public var admission: Admission
    public private(set) var clockGuard: ClockGuard<WaitingLine>
    public var nextSequence: Int64
    public var counts = IntakeCounts()

    public init(
        schema: EventSchema, lateness: Micros, jumps: ClockJumpRule = .standard, nextSequence: Int64 = 0,
        admission: Admission? = nil, waiting: [ClockGuard<WaitingLine>.Waiting] = []
    ) {
        self.schema = schema
        parser = EventParser(schema: schema)
        self.admission = admission ?? Admission(lateness: lateness)
        clockGuard = ClockGuard(rule: jumps, waiting: waiting)
        self.nextSequence = nextSequence
    }

    /// Carries on from a saved state (a checkpoint, or the offline store's `_state.json`); waiting
    /// lines are parsed again.
    public init(schema: EventSchema, lateness: Micros, jumps: ClockJumpRule, state: IntakeState?) {
        let parser = EventParser(schema: schema)
        let waiting = (state?.waiting ?? []).compactMap { w -> ClockGuard<WaitingLine>.Waiting? in
            guard case .success(let event) = w.raw.withUnsafeBytes({ parser.parse($0) }) else { return nil }
            return ClockGuard.Waiting(
                item: WaitingLine(event: event, raw: w.raw, origin: w.origin, partition: w.partition), time: event.time,
                passedBy: w.passedBy)
        }
        self.init(
            schema: schema, lateness: lateness, jumps: jumps, nextSequence: state?.nextSequence ?? 0,
            admission: state?.admission, waiting: waiting)
        if let state { counts = state.counts }
    }

    /// What `init(schema:lateness:jumps:state:)` carries on from.
    public var state: IntakeState {
        IntakeState(
            nextSequence: nextSequence, admission: admission, counts: counts,
            waiting: clockGuard.waiting.map {
                IntakeState.WaitingRecord(
                    raw: $0.item.raw, origin: $0.item.origin, partition: $0.item.partition, passedBy: $0.passedBy)
            })
    }

    /// Takes one raw line (from a partition of a partitioned source, or nil). `origin` is asked
    /// for only when the line is rejected or has to wait. `length` is the line's full length when
    /// only its start was kept (over `schema.maxLineBytes`): a dead letter.
    public mutating func take<Sink: IntakeSink>(
        _ line: UnsafeRawBufferPointer, length: Int? = nil, partition: Int32? = nil,
        origin: @autoclosure () -> Origin, into sink: inout Sink
    ) throws {
        counts.lines += 1
        if let length, length > schema.maxLineBytes || length > line.count {
            counts.deadLetters += 1
            let reason =
                "the line is \(Progress.count(length)) bytes, over the limit of \(Progress.count(schema.maxLineBytes)) (events.max_line_bytes); its first \(Progress.count(line.count)) are kept here"
            return try sink.deadLetter(reason: reason, raw: line, origin: origin())
        }
        switch parser.parse(line) {
        case .failure(let error):
            counts.deadLetters += 1
            try sink.deadLetter(reason: error.reason, raw: line, origin: origin())
        case .success(let event):
            try offer(event, raw: line, partition: partition, origin: origin(), into: &sink)
        }
    }

    /// Takes one event already parsed from `raw` (which the reject logs quote).
    public mutating func offer<Sink: IntakeSink>(
        _ event: Event, raw: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        partition: Int32? = nil, origin: @autoclosure () -> Origin, into sink: inout Sink
    ) throws {
        guard clockGuard.mustWait(event.time, clock: admission.clock) else {
            return try admit(event, partition: partition, raw: raw, origin: origin(), into: &sink)
        }
        let waiting = WaitingLine(event: event, raw: Array(raw), origin: origin(), partition: partition)
        let released = clockGuard.hold(waiting, time: event.time)
        counts.waiting = clockGuard.waiting.count
        guard !released.isEmpty else { return }
        for w in released { try admitWaiting(w.item, into: &sink) }
        for w in clockGuard.caughtUp(clock: admission.clock) { try admitWaiting(w.item, into: &sink) }
        counts.waiting = clockGuard.waiting.count
    }

    /// The end of the input: what still waits is released if it can be, and rejected otherwise.
    public mutating func finish<Sink: IntakeSink>(into sink: inout Sink) throws {
        for w in clockGuard.finish(clock: admission.clock) { try admitWaiting(w.item, into: &sink) }
        for w in clockGuard.caughtUp(clock: admission.clock) { try admitWaiting(w.item, into: &sink) }
        for w in clockGuard.rejectAll() {
            try reject(w, reason: "no other event confirmed the jump by the end of the input", into: &sink)
        }
        counts.waiting = 0
    }

    private mutating func admitWaiting<Sink: IntakeSink>(_ w: WaitingLine, into sink: inout Sink) throws {
        try w.raw.withUnsafeBytes { raw in
            try admit(w.event, partition: w.partition, raw: raw, origin: w.origin, into: &sink)
        }
    }

    private mutating func admit<Sink: IntakeSink>(
        _ event: Event, partition: Int32?, raw: UnsafeRawBufferPointer, origin: @autoclosure () -> Origin,
        into sink: inout Sink
    ) throws {
        switch admission.admit(id: event.id(in: schema), time: event.time, partition: partition) {
        case .admitted(let knownAt):
            counts.admitted += 1
            let stored = StoredEvent(event: event, sequence: nextSequence, knownAt: knownAt)
            nextSequence += 1
            try sink.admitted(stored)
            if !clockGuard.waiting.isEmpty { try settleWaiting(into: &sink) }
        case .late(let watermark):
            counts.late += 1
            try sink.late(event, watermark: watermark, raw: raw, origin: origin())
        case .duplicate:
            counts.duplicates += 1
        }
    }

    /// After an admission: waiting lines the clock has caught up with are admitted, and those
    /// that waited too long are rejected.
    private mutating func settleWaiting<Sink: IntakeSink>(into sink: inout Sink) throws {
        let (release, expired) = clockGuard.passed(clock: admission.clock)
        counts.waiting = clockGuard.waiting.count
        for w in expired {
            try reject(
                w, reason: "not confirmed by the \(ClockJumpRule.patience) events admitted after it", into: &sink)
        }
        for w in release { try admitWaiting(w.item, into: &sink) }
    }

    private mutating func reject<Sink: IntakeSink>(
        _ w: ClockGuard<WaitingLine>.Waiting, reason: String, into sink: inout Sink
    ) throws {
        counts.deadLetters += 1
        let ahead = admission.clock == .min ? "" : " \(DurationText.approximate(w.time - admission.clock))"
        let message =
            "event time is\(ahead) ahead of the stream clock (at most \(DurationText.words(clockGuard.rule.maxJump)) unless \(clockGuard.rule.quorum) events confirm the jump); \(reason)"
        try w.item.raw.withUnsafeBytes { try sink.deadLetter(reason: message, raw: $0, origin: w.item.origin) }
    }
}
