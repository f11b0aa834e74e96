import FeatureCore
import FsmlCore
import FsmlTestSupport
import Testing

/// Hand-computed cases at the edges: tile and window boundaries, the instant t itself, TTL expiry
/// and restart, ratios over nothing, exact sums.
@Suite struct FeatureEngineTests {
    let registry = EventFactory.referenceRegistry()
    var engine: FeatureEngine { FeatureEngine(registry: registry) }

    /// Admits `events` in the given (arrival) order and reads `feature` for `key` as of `t` from the
    /// state holding the events known before t, as the server would.
    func read(_ feature: String, key: String, asOf t: Micros, _ events: [Event]) -> Double {
        let states = StateTable(engine: engine)
        var admission = Admission(lateness: registry.allowedLateness)
        for e in events {
            guard case .admitted(let knownAt) = admission.admit(id: e.id(in: registry.schema), time: e.time) else {
                continue
            }
            if knownAt < t { states.fold(e) }
        }
        return states.value(feature: registry.featureIndex(feature)!, key: key, asOf: t)
    }

    let at = EventFactory.at

    @Test func slidingCountsFollowTheWindowRule() {
        var f = EventFactory(registry: registry)
        let events = [f.make(at(0)), f.make(at(0.5)), f.make(at(2)), f.make(at(2.2), type: "add_to_cart")]
        #expect(read("user_views_5m", key: "u1", asOf: at(3.5), events) == 3)
        // [12:00, 12:05): the event at exactly 12:00:00 is in.
        #expect(read("user_views_5m", key: "u1", asOf: at(5), events) == 3)
        // [12:00, 12:05:00.5): still in (the start is the tile boundary).
        #expect(read("user_views_5m", key: "u1", asOf: at(5.5), events) == 3)
        // [12:01, 12:06): the first two have left.
        #expect(read("user_views_5m", key: "u1", asOf: at(6), events) == 1)
        #expect(read("user_views_5m", key: "u1", asOf: at(7), events) == 1)
        #expect(read("user_views_5m", key: "u1", asOf: at(8), events) == 0)
        #expect(read("user_add2cart_1h", key: "u1", asOf: at(60), events) == 1)
        #expect(read("user_add2cart_1h", key: "u1", asOf: at(65), events) == 0)
    }

    /// The table in docs/semantics.md §2, row by row.
    @Test func theWorkedExampleOfTheSemanticsDocument() {
        var f = EventFactory(registry: registry)
        let seconds = { (s: Double) in EventFactory.at(s / 60) }
        // 11:57:30, 11:58:10, 12:00:00, 12:02:45, 12:03:30
        let events = [-150.0, -110, 0, 165, 210].map { f.make(seconds($0)) }
        #expect(read("user_views_5m", key: "u1", asOf: seconds(210), events) == 3)
        #expect(read("user_views_5m", key: "u1", asOf: seconds(210) + 1, events) == 4)
        #expect(read("user_views_5m", key: "u1", asOf: seconds(240), events) == 3)
        #expect(read("user_views_5m", key: "u1", asOf: seconds(300), events) == 3)
        #expect(read("user_views_5m", key: "u1", asOf: seconds(360), events) == 2)
        #expect(read("user_views_5m", key: "u1", asOf: seconds(540), events) == 0)
    }

    @Test func anEventAtExactlyTIsNotItsOwnFeature() {
        var f = EventFactory(registry: registry)
        let events = [f.make(at(1)), f.make(at(2))]
        #expect(read("user_views_5m", key: "u1", asOf: at(2), events) == 1)
        #expect(read("user_views_5m", key: "u1", asOf: at(2) + 1, events) == 2)
        // Nothing known before the first event: the user does not exist yet.
        #expect(read("user_views_5m", key: "u1", asOf: at(1), events).isNaN)
    }

    @Test func ttlExpiryIsInclusiveAndMissingIsNaN() {
        var f = EventFactory(registry: registry)
        let events = [f.make(at(0))]
        let week = 7 * Timestamp.microsPerDay
        #expect(read("user_views_5m", key: "u1", asOf: at(0) + week, events) == 0)
        #expect(read("user_views_5m", key: "u1", asOf: at(0) + week + 1, events).isNaN)
        #expect(read("user_views_5m", key: "nobody", asOf: at(10), events).isNaN)
        // Session TTL is 2h.
        #expect(read("sess_duration_s", key: "u1:s1", asOf: at(120), events) == 0)
        #expect(read("sess_duration_s", key: "u1:s1", asOf: at(120) + 1, events).isNaN)
    }

    @Test func anExpiredEntityStartsOver() {
        var f = EventFactory(registry: registry)
        let events = [
            f.make(at(0), product: "a"), f.make(at(30), product: "b"), f.make(at(100), product: "c"),
            // 2h01m after the latest event: the session expired and starts over.
            f.make(at(221), product: "d"),
        ]
        #expect(read("sess_duration_s", key: "u1:s1", asOf: at(101), events) == 6000)
        #expect(read("sess_unique_products", key: "u1:s1", asOf: at(101), events) == 3)
        #expect(read("sess_duration_s", key: "u1:s1", asOf: at(222), events) == 0)
        #expect(read("sess_unique_products", key: "u1:s1", asOf: at(222), events) == 1)
    }

    @Test func ratiosOverNothingAreMissingAndSumsAreExact() {
        var f = EventFactory(registry: registry)
        let events = [
            f.make(at(0), type: "add_to_cart", product: "p"),
            f.make(at(1), type: "purchase", product: "p", price: 19.99),
            f.make(at(2), type: "purchase", product: "p", price: 0.01),
            f.make(at(3), type: "purchase", product: "p", price: 0.1),
            f.make(at(4), type: "purchase", product: "p", price: 0.2),
        ]
        #expect(read("user_cr_24h", key: "u1", asOf: at(10), events).isNaN)
        // 0.1 + 0.2 is 0.30000000000000004 in floating point; fixed point makes it 0.3 exactly.
        #expect(read("prod_rev_24h", key: "p", asOf: at(10), events) == 20.3)
        #expect(read("prod_ctr_24h", key: "p", asOf: at(10), events).isNaN)
        var g = EventFactory(registry: registry)
        let mixed = [g.make(at(0)), g.make(at(1)), g.make(at(2)), g.make(at(3), type: "purchase")]
        #expect(read("user_cr_24h", key: "u1", asOf: at(10), mixed) == 1.0 / 3.0)
    }

    @Test func lateEventsLandInTheirOwnTile() {
        var f = EventFactory(registry: registry)
        // Arrival order: 12:10, then a view from 12:06 (late by 4 minutes, within the lateness).
        let events = [f.make(at(10)), f.make(at(6))]
        #expect(read("user_views_5m", key: "u1", asOf: at(10.5), events) == 2)
        #expect(read("user_views_5m", key: "u1", asOf: at(12), events) == 1)
        // 11 minutes late: beyond the lateness, never folded.
        var g = EventFactory(registry: registry)
        let tooLate = [g.make(at(20)), g.make(at(8.9))]
        #expect(read("user_views_24h", key: "u1", asOf: at(21), tooLate) == 1)
    }

    @Test func sessionsAreKeyedByUserAndSession() {
        var f = EventFactory(registry: registry)
        let events = [f.make(at(0), user: "a", session: "s"), f.make(at(1), user: "b", session: "s", product: "x")]
        #expect(read("sess_unique_products", key: "a:s", asOf: at(2), events) == 1)
        #expect(read("sess_unique_products", key: "b:s", asOf: at(2), events) == 1)
        #expect(EntityKeyMaker.join(["a:b", "c"]) != EntityKeyMaker.join(["a", "b:c"]))
    }

    @Test func stateIsCompactAndRoundTrips() throws {
        var f = EventFactory(registry: registry)
        let states = StateTable(engine: engine)
        for i in 0..<500 {
            states.fold(
                f.make(
                    at(Double(i) * 0.7), type: ["page_view", "add_to_cart", "purchase"][i % 3], product: "p\(i % 7)",
                    price: Double(i) / 100))
        }
        for (e, table) in states.tables.enumerated() {
            for (_, state) in table {
                let bytes = StateCodec.encode(state, engine: engine, entity: e)
                let back = try StateCodec.decode(bytes, engine: engine, entity: e)
                #expect(back == state)
                #expect(StateCodec.encode(back, engine: engine, entity: e) == bytes)
            }
        }
        let user = StateCodec.encode(states.state(entity: 0, key: "u1")!, engine: engine, entity: 0)
        #expect(user.count < 200)
    }

    @Test func corruptOrForeignStateIsAnErrorNotATrap() throws {
        var f = EventFactory(registry: registry)
        let states = StateTable(engine: engine)
        states.fold(f.make(at(0)))
        let bytes = StateCodec.encode(states.state(entity: 2, key: "u1:s1")!, engine: engine, entity: 2)
        #expect(throws: StateDecodeError.self) { try StateCodec.decode(bytes, engine: engine, entity: 0) }
        for n in 0..<bytes.count {
            #expect(throws: StateDecodeError.self) {
                try StateCodec.decode(Array(bytes[0..<n]), engine: engine, entity: 2)
            }
        }
        var rng = SeededRandom(seed: 5)
        for _ in 0..<2000 {
            let noise = (0..<rng.below(60)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? StateCodec.decode(noise, engine: engine, entity: 0)
        }
    }
}
