import FeatureCore
import FsmlCore
import Testing

@Suite struct AdmissionTests {
    let m = Timestamp.microsPerMinute

    @Test func lateAndDuplicateDecisionsOnACraftedSequence() {
        var a = Admission(lateness: 10 * m)
        #expect(a.admit(id: "a", time: 100 * m) == .admitted(knownAt: 100 * m))
        #expect(a.admit(id: "b", time: 95 * m) == .admitted(knownAt: 100 * m))  // 5 minutes late: fine
        #expect(a.admit(id: "c", time: 90 * m) == .admitted(knownAt: 100 * m))  // exactly at the watermark: fine
        #expect(a.admit(id: "d", time: 90 * m - 1) == .late(watermark: 90 * m))
        #expect(a.admit(id: "a", time: 100 * m) == .duplicate)
        #expect(a.admit(id: "e", time: 120 * m) == .admitted(knownAt: 120 * m))
        // "b" is now below the watermark (110m): its resend is late, not a duplicate.
        #expect(a.admit(id: "b", time: 95 * m) == .late(watermark: 110 * m))
        // A late event never moves the clock; a duplicate neither.
        #expect(a.clock == 120 * m)
        #expect(a.watermark == 110 * m)
    }

    @Test func aPartitionedSourceHoldsTheWatermarkAtTheSlowestPartition() {
        var a = Admission(lateness: 10 * m)
        a.assign([0, 1])
        // Partition 0 races ahead while partition 1 has sent nothing: nothing can be late yet.
        for t in stride(from: 100, through: 200, by: 10) {
            #expect(a.admit(id: "p0-\(t)", time: Micros(t) * m, partition: 0) == .admitted(knownAt: Micros(t) * m))
        }
        #expect(a.watermark == .min)
        // Partition 1 starts at 100 minutes, in order within itself: admitted, 100 minutes behind.
        #expect(a.admit(id: "p1-100", time: 100 * m, partition: 1) == .admitted(knownAt: 200 * m))
        #expect(a.watermark == 90 * m)
        #expect(a.maxLag == 100 * m)
        #expect(a.admit(id: "p1-150", time: 150 * m, partition: 1) == .admitted(knownAt: 200 * m))
        #expect(a.watermark == 140 * m)
        #expect(a.admit(id: "p1-late", time: 139 * m, partition: 1) == .late(watermark: 140 * m))
        // A partition read to its end stops holding the watermark back.
        a.idle(1)
        #expect(a.watermark == 190 * m)
        // The watermark never goes back: partition 1 waking up with an old event finds it late.
        #expect(a.admit(id: "p1-160", time: 160 * m, partition: 1) == .late(watermark: 190 * m))
        #expect(a.clock == 200 * m)
    }

    @Test func decisionsDoNotDependOnWhenIdsAreForgotten() {
        var rng = SeededRandom(seed: 8)
        var t: Micros = 0
        var arrivals: [(String, Micros)] = []
        for i in 0..<40_000 {
            t += Micros(rng.uniform() * 2_000_000)
            let time = rng.bernoulli(0.05) ? t - Micros(rng.uniform() * 20 * Double(m)) : t
            let id = rng.bernoulli(0.03) && i > 0 ? arrivals[rng.below(arrivals.count)].0 : "e\(i)"
            arrivals.append((id, time))
        }
        var eager = Admission(lateness: 10 * m)
        var lazy = Admission(lateness: 10 * m)
        var decisions: [Admission.Decision] = []
        for (i, (id, time)) in arrivals.enumerated() {
            let d = eager.admit(id: id, time: time)
            if i % 7 == 0 { eager.prune() }
            decisions.append(d)
            #expect(lazy.admit(id: id, time: time) == d)
        }
        // Replaying the same order reaches the same decisions.
        var again = Admission(lateness: 10 * m)
        #expect(arrivals.map { again.admit(id: $0.0, time: $0.1) } == decisions)
        #expect(decisions.contains(.duplicate))
        #expect(decisions.contains { if case .late = $0 { return true } else { return false } })
    }

    /// Against an oracle that never forgets an id, written from the rule alone: tens of thousands
    /// of ids (the id table grows and forgets in place many times over), short and long ones, with
    /// resends and late events, pruned at odd moments; then carried on from a restored state.
    @Test(arguments: 0..<4)
    func agreesWithAnOracleThatNeverForgets(seed: Int) {
        var rng = SeededRandom(seed: UInt64(100 + seed))
        var admission = Admission(lateness: 10 * m)
        var clock = Micros.min
        var seen: [String: Micros] = [:]
        var ids: [String] = []
        var t: Micros = 0
        func oracle(_ id: String, _ time: Micros) -> Admission.Decision {
            let w = clock == .min ? Micros.min : clock - 10 * m
            if time < w { return .late(watermark: w) }
            if let s = seen[id], s >= w { return .duplicate }
            seen[id] = time
            clock = max(clock, time)
            return .admitted(knownAt: clock)
        }
        for i in 0..<60_000 {
            t += Micros(rng.below(300_000))
            let time = rng.bernoulli(0.1) ? t - Micros(rng.below(Int(15 * m))) : t
            let id: String
            if rng.bernoulli(0.05) && !ids.isEmpty {
                id = ids[ids.count - 1 - rng.below(min(ids.count, 5_000))]
            } else {
                id = i % 2 == 0 ? "e\(i)" : "event-\(i)-with-a-longer-id-\(i &* 7919)"
                ids.append(id)
            }
            #expect(admission.admit(id: id, time: time) == oracle(id, time), "arrival \(i)")
            if rng.below(3_000) == 0 { admission.prune() }
            if i == 40_000 {
                let w = admission.watermark
                let remembered = admission.recent.filter { $0.value >= w }
                #expect(remembered == seen.filter { $0.value >= w })
                admission = Admission(
                    lateness: 10 * m, clock: admission.clock, recent: remembered, maxLag: admission.maxLag)
            }
        }
        #expect(seen.count > 50_000)
    }
}
