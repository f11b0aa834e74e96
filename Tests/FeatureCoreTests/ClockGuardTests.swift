import FeatureCore
import FsmlCore
import Testing

/// The clock guard with admission, on event times alone: what is admitted, in which order, and
/// what is rejected. (`IntakeTests` runs the same rule on real lines, in the stream and in batch.)
@Suite struct ClockGuardTests {
    static let minute = Timestamp.microsPerMinute
    static let day = Timestamp.microsPerDay
    static let t0 = try! Timestamp.parse("2025-01-13T00:00:00Z").get()
    static let year9999 = try! Timestamp.parse("9999-12-31T23:59:59Z").get()

    /// Events offered in arrival order; `finish` at the end.
    struct Run {
        var admission = Admission(lateness: 10 * ClockGuardTests.minute)
        var guardian: ClockGuard<Int>
        var admitted: [Int] = []
        var rejected: [Int] = []

        init(rule: ClockJumpRule = .standard) { guardian = ClockGuard(rule: rule) }

        mutating func offer(_ i: Int, _ time: Micros) {
            if guardian.mustWait(time, clock: admission.clock) {
                for w in guardian.hold(i, time: time) { admit(w.item, w.time) }
                for w in guardian.caughtUp(clock: admission.clock) { admit(w.item, w.time) }
            } else {
                admit(i, time)
            }
        }

        mutating func admit(_ i: Int, _ time: Micros) {
            guard case .admitted = admission.admit(id: "\(i)", time: time) else { return }
            admitted.append(i)
            let (release, expired) = guardian.passed(clock: admission.clock)
            rejected += expired.map(\.item)
            for w in release { admit(w.item, w.time) }
        }

        mutating func finish() {
            for w in guardian.finish(clock: admission.clock) { admit(w.item, w.time) }
            for w in guardian.caughtUp(clock: admission.clock) { admit(w.item, w.time) }
            rejected += guardian.rejectAll().map(\.item)
        }

        static func run(_ times: [Micros], rule: ClockJumpRule = .standard) -> Run {
            var r = Run(rule: rule)
            for (i, t) in times.enumerated() { r.offer(i, t) }
            r.finish()
            return r
        }
    }

    /// A steady stream: one event a minute from t0.
    static func steady(_ n: Int, from start: Micros = t0) -> [Micros] { (0..<n).map { start + Micros($0) * minute } }

    @Test func aSteadyStreamIsAdmittedInArrivalOrderOnceTheClockStarts() {
        let r = Run.run(Self.steady(500))
        #expect(r.admitted == Array(0..<500) && r.rejected.isEmpty)
        // The first quorum wait (there is no clock yet); from then on nothing waits.
        var live = Run()
        for (i, t) in Self.steady(20).enumerated() {
            live.offer(i, t)
            #expect(live.admitted.count == (i + 1 < 8 ? 0 : i + 1))
        }
    }

    @Test(arguments: [0, 1, 3, 250, 480])
    func oneEventInTheYear9999IsADeadLetterWhereverItComes(at position: Int) {
        var times = Self.steady(500)
        times.insert(Self.year9999, at: position)
        let r = Run.run(times)
        #expect(r.rejected == [position])
        #expect(r.admitted == Array(0..<501).filter { $0 != position })
        #expect(r.admission.clock == Self.steady(500).last!)
    }

    /// docs/semantics.md §1's worked example: the 250th line, dated 9999, is rejected when the
    /// 350th line is admitted.
    @Test func theWorkedExampleOfTheSemanticsDocument() {
        var times = Self.steady(400)
        times.insert(Self.year9999, at: 249)
        var r = Run()
        for (i, t) in times.enumerated() {
            r.offer(i, t)
            #expect(r.rejected == (i >= 349 ? [249] : []), "after line \(i + 1)")
        }
    }

    @Test func oneMonthAheadIsADeadLetterToo() {
        var times = Self.steady(300)
        times.insert(times[100] + 31 * Self.day, at: 101)
        let r = Run.run(times)
        #expect(r.rejected == [101] && r.admitted.count == 300)
    }

    /// Seven events with the same future time (one fewer than the quorum), at the start and later.
    @Test(arguments: [0, 150])
    func aHandfulOfFutureEventsCannotMoveTheClock(at position: Int) {
        var times = Self.steady(400)
        times.insert(contentsOf: Array(repeating: Self.t0 + 400 * Self.day, count: 7), at: position)
        let r = Run.run(times)
        #expect(r.rejected == Array(position..<position + 7))
        #expect(r.admitted.count == 400 && r.admission.clock == Self.steady(400).last!)
    }

    /// A stream that resumes after three days: the first events after the gap wait for the quorum,
    /// then all are admitted, in arrival order; nothing is lost.
    @Test func aRealJumpIsConfirmedAndLosesNothing() {
        let times = Self.steady(100) + Self.steady(100, from: Self.t0 + 3 * Self.day)
        var r = Run()
        for (i, t) in times.enumerated() {
            r.offer(i, t)
            if i == 106 { #expect(r.admitted.count == 100) }  // seven after the gap wait
        }
        r.finish()
        #expect(r.admitted == Array(0..<200) && r.rejected.isEmpty)
    }

    /// An event 30 hours ahead waits while the clock moves on, and is released when the clock
    /// comes within a day of it: it is admitted then, as an event with its time arriving at that
    /// moment would be, and moves the clock (later events more than the lateness behind are late).
    @Test func anEventIsReleasedWhenTheClockCatchesUp() {
        var times = Self.steady(40)
        times.insert(Self.t0 + 30 * 60 * Self.minute, at: 20)
        // Then the stream goes on from 7 hours, one event every ten minutes.
        times += (0..<200).map { Self.t0 + 7 * 60 * Self.minute + Micros($0) * 10 * Self.minute }
        let r = Run.run(times)
        #expect(r.rejected.isEmpty)
        let resumed = r.admitted.firstIndex(of: 41)!
        #expect(r.admitted[resumed + 1] == 20)
        #expect(r.admission.clock == times.last!)
    }

    /// Fewer events than the quorum: at the end of the input the clock starts at their median.
    @Test func aShortInputStartsItsClockAtTheMedian() {
        let times = [Self.t0, Self.year9999, Self.t0 + 5 * Self.minute, Self.t0 + 2 * Self.minute]
        let r = Run.run(times)
        #expect(r.admitted == [0, 2, 3] && r.rejected == [1])
    }

    @Test func aLongRunOfSparseEventsWithinTheBoundNeverWaits() {
        // One event every 23 hours: each is within a day of the last.
        let times = (0..<50).map { Self.t0 + Micros($0) * 23 * 60 * Self.minute }
        let r = Run.run(times)
        #expect(r.admitted == Array(0..<50) && r.rejected.isEmpty)
    }
}
