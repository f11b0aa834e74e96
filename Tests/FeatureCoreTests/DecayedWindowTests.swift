import FeatureCore
import FsmlCore
import FsmlTestSupport
import Testing

/// The decayed window on hand-computed cases: each event weighs 2^(−age / half-life) at the as-of
/// time, kept to a micro-unit per event, in any arrival order.
@Suite struct DecayedWindowTests {
    static let registry = EventFactory.referenceRegistry()

    static func value(_ window: WindowSpec, _ events: [Event], asOf t: Micros) throws -> Double {
        var arguments = AggregatorArguments(schema: registry.schema, operation: "count", values: [:])
        let count = try CountAggregator(arguments: &arguments)
        let slot = UnsafeMutableRawPointer.allocate(byteCount: 8 * count.words(window: window), alignment: 8)
        defer { slot.deallocate() }
        count.initialize(slot, window: window)
        defer { count.deinitialize(slot, window: window) }
        for e in events { count.fold(e, into: slot, window: window) }
        return count.value(of: slot, window: window, asOf: t)
    }

    @Test func aDecayedCountWeighsEachEventByItsAge() throws {
        var f = EventFactory(registry: Self.registry)
        let hour = Timestamp.microsPerHour
        let window = WindowSpec.decayed(halfLife: hour)
        let noon = EventFactory.noon
        let twoEvents = [f.make(noon), f.make(noon + hour)]
        // At 14:00 one event is two half-lives old and one is one: 1/4 + 1/2.
        #expect(try Self.value(window, twoEvents, asOf: noon + 2 * hour) == 0.75)
        #expect(try Self.value(window, twoEvents.reversed(), asOf: noon + 2 * hour) == 0.75)
        // An event at 12:30 weighs √2 in its tile, kept as 1.414214; at 14:00 that is 1.414214 / 4.
        let half = [f.make(noon + hour / 2)]
        #expect(try Self.value(window, half, asOf: noon + 2 * hour) == 1.414214 / 4)
        // docs/semantics.md's worked example: 12:00, 12:30 and 13:00, read at 14:00 and 16:00.
        let three = [f.make(noon), f.make(noon + hour / 2), f.make(noon + hour)]
        #expect(try Self.value(window, three, asOf: noon + 2 * hour) == 2.414214 / 4 + 0.5)
        #expect(try Self.value(window, three, asOf: noon + 4 * hour) == 2.414214 / 16 + 0.125)
        #expect(abs(2.414214 / 4 + 0.5 - 1.1035535) < 1e-12 && abs(2.414214 / 16 + 0.125 - 0.275888375) < 1e-12)
        // 70 half-lives later the ring has dropped it: 2^-70 is below what a tile keeps.
        let old = [f.make(noon), f.make(noon + 70 * hour)]
        #expect(try Self.value(window, old, asOf: noon + 70 * hour + hour) == 0.5)
    }
}
