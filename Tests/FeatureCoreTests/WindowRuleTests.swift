import FeatureCore
import FsmlCore
import FsmlTestSupport
import Testing

@Suite struct WindowRuleTests {
    let m = Timestamp.microsPerMinute

    @Test func theDocumentedWorkedExample() {
        // w = 5m, h = 1m, t = 12:03:30 covers [11:58:00, 12:03:30).
        let t = EventFactory.at(3.5)
        #expect(WindowRule.contains(EventFactory.at(-2), asOf: t, window: 5 * m, hop: m))
        #expect(!WindowRule.contains(EventFactory.at(-2) - 1, asOf: t, window: 5 * m, hop: m))
        #expect(WindowRule.contains(t - 1, asOf: t, window: 5 * m, hop: m))
        #expect(!WindowRule.contains(t, asOf: t, window: 5 * m, hop: m))
        // At 12:04:00 the window is exactly [11:59, 12:04).
        let t2 = EventFactory.at(4)
        #expect(!WindowRule.contains(EventFactory.at(-1.5), asOf: t2, window: 5 * m, hop: m))
        #expect(WindowRule.contains(EventFactory.at(-1), asOf: t2, window: 5 * m, hop: m))
    }

    @Test func coveredTilesMatchContainsAtEveryOffset() {
        let w = 5 * m
        let h = m
        for offset in stride(from: Micros(-3 * m), through: 3 * m, by: 7_000_001) {
            let t = EventFactory.noon + offset
            let (first, last) = WindowRule.coveredTiles(asOf: t, window: w, hop: h)
            for probe in stride(from: t - 8 * m, through: t + m, by: 1_000_003) {
                let k = WindowRule.tile(of: probe, hop: h)
                let byTiles = k >= first && k <= last && probe < t
                #expect(byTiles == WindowRule.contains(probe, asOf: t, window: w, hop: h))
            }
        }
    }

    @Test func ttlIsInclusiveAtExactlyTheTTL() {
        #expect(!WindowRule.isExpired(lastEvent: 0, asOf: 100, ttl: 100))
        #expect(WindowRule.isExpired(lastEvent: 0, asOf: 101, ttl: 100))
    }

    @Test func tilesBeforeTheEpochFloor() {
        #expect(WindowRule.tile(of: -1, hop: m) == -1)
        #expect(WindowRule.tile(of: 0, hop: m) == 0)
    }
}
