import EventGenerator
import Foundation
import FsmlCore
import Testing

/// The risk template's events: the same seed gives the same bytes; every chargeback disputes an
/// earlier authorization of the same card, 2 hours to 6 days later; card-testing bursts and stolen
/// cards are there for features to find.
@Suite struct RiskGeneratorTests {
    static func lines(seed: UInt64) throws -> (RiskGenerator.Summary, [[String: Any]], [UInt8]) {
        var config = GeneratorConfig()
        config.events = 20_000
        config.users = 600
        config.products = 80
        config.days = 10
        config.seed = seed
        var bytes: [UInt8] = []
        let summary = try RiskGenerator(config: config).run(gzip: false) { bytes.append(contentsOf: $0) }
        let objects = bytes.split(separator: 10).map {
            try! JSONSerialization.jsonObject(with: Data($0)) as! [String: Any]
        }
        return (summary, objects, bytes)
    }

    @Test func seededChargebacksAndFraudPatterns() throws {
        let (summary, events, bytes) = try Self.lines(seed: 4)
        #expect(try Self.lines(seed: 4).2 == bytes)
        #expect(try Self.lines(seed: 5).2 != bytes)
        #expect(summary.lines == events.count && summary.authorizations + summary.chargebacks == events.count)
        #expect(summary.fraudulent > 100 && summary.chargebacks > summary.fraudulent / 2)
        func time(_ e: [String: Any]) -> Micros { try! Timestamp.parse(e["event_ts"] as! String).get() }
        let times = events.map(time)
        #expect(times == times.sorted())
        var authorizations: [String: [String: Any]] = [:]
        for e in events where e["event_type"] as? String == "authorization" {
            #expect(e["auth_id"] as? String == e["event_id"] as? String)
            authorizations[e["auth_id"] as! String] = e
        }
        for cb in events where cb["event_type"] as? String == "chargeback" {
            let auth = try #require(authorizations[cb["auth_id"] as! String])
            #expect(auth["card_id"] as? String == cb["card_id"] as? String)
            let delay = time(cb) - time(auth)
            #expect(delay >= 2 * Timestamp.microsPerHour - 1000 && delay <= 6 * Timestamp.microsPerDay)
        }
        // Card testing: some card makes five or more authorizations under 5.00 within ten minutes.
        var small: [String: [Micros]] = [:]
        for e in events where e["event_type"] as? String == "authorization" && (e["amount"] as! Double) < 5 {
            small[e["card_id"] as! String, default: []].append(time(e))
        }
        let bursts = small.values.filter { t in
            t.indices.contains { i in i + 4 < t.count && t[i + 4] - t[i] < 10 * Timestamp.microsPerMinute }
        }
        #expect(!bursts.isEmpty)
    }
}
