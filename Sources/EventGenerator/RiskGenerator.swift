import Foundation
import FsmlCore

/// Card authorizations for the risk template (`fsml generate events --template risk`): cards,
/// merchants, devices and countries, with fraud that features can see, and chargebacks that
/// arrive hours to days after the authorization they dispute. Seeded: the same config gives the
/// same bytes.
///
/// Legitimate cards authorize a few times a day (a daily curve) at a handful of usual merchants,
/// in their home country, from their own device, with amounts lognormal by merchant. Fraud comes
/// in three patterns: card testing (a burst of 5 to 20 small amounts within minutes at one or two
/// merchants, then one large one), a stolen card (many merchants in a few hours, from a new device
/// and often abroad), and risky merchants (a higher base rate of disputed authorizations). About
/// 80 % of fraudulent authorizations and 0.2 % of the others (more at risky merchants) get a
/// chargeback, 2 hours to 6 days later (median 1.5 days), carrying the authorization's `auth_id`.
public struct RiskGenerator: Sendable {
    public let config: GeneratorConfig
    /// Share of cards that are compromised at some point.
    public var compromisedShare = 0.03

    public init(config: GeneratorConfig) { self.config = config }

    public struct Summary: Sendable, Equatable {
        public var lines = 0
        public var authorizations = 0
        public var fraudulent = 0
        public var chargebacks = 0
        public var bytes = 0
    }

    struct Line {
        var time: Micros
        var text: String
    }

    /// Generates every line, sorts them by event time and hands them to `write` in chunks (gzip
    /// members when `gzip`).
    public func run(gzip: Bool, write: ([UInt8]) throws -> Void) throws -> Summary {
        var rng = SeededRandom(seed: config.seed)
        let cards = max(1, config.users)
        let merchants = max(2, config.products)
        let countries = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "IN", "NG"]
        let merchantRisk = (0..<merchants).map { _ in rng.bernoulli(0.05) ? 8.0 : 1.0 }
        let merchantAmount = (0..<merchants).map { _ in log(10 + rng.lognormal(mu: log(30), sigma: 0.9)) }
        let home = (0..<cards).map { _ in countries[rng.bernoulli(0.7) ? 0 : rng.below(countries.count)] }
        let usual = (0..<cards).map { _ in (0..<4).map { _ in rng.below(merchants) } }
        let span = config.end - config.start
        let perCard = Double(config.events) / Double(cards) / 1.02
        var lines: [Line] = []
        lines.reserveCapacity(Int(Double(config.events) * 1.05))
        var summary = Summary()
        var sequence: UInt64 = 0

        func id(_ prefix: String) -> String {
            sequence += 1
            return prefix + StableHash.hex(StableHash.mix(config.seed &+ sequence))
        }
        func authorize(
            _ card: Int, _ merchant: Int, _ time: Micros, amount: Double, device: String, country: String,
            fraud: Bool
        ) {
            let authID = id("a_")
            let ts = Timestamp.format(Timestamp.floorDiv(time, 1000) * 1000)
            let text =
                "{\"event_id\":\"\(authID)\",\"event_ts\":\"\(ts)\",\"event_type\":\"authorization\",\"auth_id\":\"\(authID)\",\"card_id\":\"c_\(100_000 + card)\",\"merchant_id\":\"m_\(10_000 + merchant)\",\"device_id\":\"\(device)\",\"country\":\"\(country)\",\"amount\":\(JSONText.number((amount * 100).rounded() / 100))}"
            lines.append(Line(time: time, text: text))
            summary.authorizations += 1
            if fraud { summary.fraudulent += 1 }
            let disputed = fraud ? 0.8 : 0.002 * merchantRisk[merchant]
            if rng.bernoulli(min(disputed, 0.9)) {
                let delay = min(max(rng.lognormal(mu: log(1.5 * 86_400), sigma: 0.8), 7_200), 6 * 86_400)
                let at = time + Micros(delay * 1e6)
                let cb =
                    "{\"event_id\":\"\(id("cb_"))\",\"event_ts\":\"\(Timestamp.format(Timestamp.floorDiv(at, 1000) * 1000))\",\"event_type\":\"chargeback\",\"auth_id\":\"\(authID)\",\"card_id\":\"c_\(100_000 + card)\",\"merchant_id\":\"m_\(10_000 + merchant)\",\"country\":\"\(country)\",\"amount\":\(JSONText.number((amount * 100).rounded() / 100))}"
                lines.append(Line(time: at, text: cb))
                summary.chargebacks += 1
            }
        }

        for card in 0..<cards {
            let device = "d_" + StableHash.hex(StableHash.mix(UInt64(card) &+ config.seed)).prefix(10)
            // Legitimate traffic: a daily curve, usual merchants, home country.
            let count = max(1, Int(rng.exponential(mean: perCard).rounded()))
            for _ in 0..<count {
                let day = Micros(rng.below(max(1, config.days))) * Timestamp.microsPerDay
                let hour = 7 + 15 * rng.uniform()  // 07:00 to 22:00 UTC
                let time = config.start + day + Micros(hour * Double(Timestamp.microsPerHour))
                let merchant = rng.bernoulli(0.75) ? usual[card][rng.below(4)] : rng.below(merchants)
                let amount = exp(merchantAmount[merchant] + 0.5 * rng.normal())
                let fraud = rng.bernoulli(0.0015 * merchantRisk[merchant])
                authorize(card, merchant, time, amount: amount, device: device, country: home[card], fraud: fraud)
            }
            guard rng.bernoulli(compromisedShare) else { continue }
            let at = config.start + Micros(rng.uniform() * Double(span) * 0.9)
            if rng.bernoulli(0.5) {
                // Card testing: small amounts in a burst, then a large one.
                let merchant = rng.below(merchants)
                var t = at
                for _ in 0..<(5 + rng.below(16)) {
                    t += Micros(rng.exponential(mean: 20) * 1e6)
                    authorize(
                        card, rng.bernoulli(0.8) ? merchant : rng.below(merchants), t,
                        amount: 0.5 + 4.5 * rng.uniform(),
                        device: "d_t\(card)", country: home[card], fraud: true)
                }
                authorize(
                    card, rng.below(merchants), t + 60_000_000, amount: 300 + 900 * rng.uniform(), device: "d_t\(card)",
                    country: home[card], fraud: true)
            } else {
                // A stolen card: many merchants within hours, a new device, often abroad.
                let abroad = countries[1 + rng.below(countries.count - 1)]
                var t = at
                for _ in 0..<(4 + rng.below(10)) {
                    t += Micros(rng.exponential(mean: 900) * 1e6)
                    let merchant = rng.below(merchants)
                    authorize(
                        card, merchant, t, amount: exp(merchantAmount[merchant] + 0.6 + 0.5 * rng.normal()),
                        device: "d_s\(card)", country: rng.bernoulli(0.7) ? abroad : home[card], fraud: true)
                }
            }
        }
        lines.sort { ($0.time, $0.text) < ($1.time, $1.text) }
        summary.lines = lines.count
        var chunk: [UInt8] = []
        func flush() throws {
            guard !chunk.isEmpty else { return }
            let out = gzip ? try Gzip.compress(chunk, level: config.gzipLevel) : chunk
            summary.bytes += out.count
            try write(out)
            chunk.removeAll(keepingCapacity: true)
        }
        for line in lines {
            chunk.append(contentsOf: line.text.utf8)
            chunk.append(10)
            if chunk.count >= 1 << 20 { try flush() }
        }
        try flush()
        return summary
    }
}
