import Foundation
import FsmlCore

/// One line to write: an event, a resent copy of one, or a corrupted one.
struct GeneratedLine {
    enum Kind: UInt8 {
        case original, duplicate, malformed
    }

    var arrival: Micros
    /// Orders lines with equal arrival times the same way on every run.
    var sequence: UInt64
    var time: Micros
    var kind: Kind
    var eventType: UInt8
    /// For malformed lines, which corruption.
    var corruption: UInt8
    var mobile: Bool
    var user: Int32
    var product: Int32
    var eventID: UInt64
    var sessionID: UInt64
}

/// Simulates the sessions that start in one hour of the timeline. Each hour draws from its own
/// random stream, so hours can be simulated in parallel and give the same lines on any machine.
///
/// A session: a user (drawn by activity) browses products, partly within one category and
/// sometimes coming back to a product already seen. After each view the user may add the product
/// to the cart, with log-odds that rise with the user's propensity, the product's appeal, the
/// session's intent, a repeat view and the session's depth, and fall with a price above the
/// category's usual level. At the end of the session carted products may be bought.
struct SessionSimulator {
    static let pageView: UInt8 = 0
    static let addToCart: UInt8 = 1
    static let purchase: UInt8 = 2
    static let corruptions: UInt8 = 8

    let world: World
    let config: GeneratorConfig

    func simulate(
        block: Int, quota: Int, blockStart: Micros, blockLength: Micros
    ) -> ([GeneratedLine], GeneratorSummary) {
        var rng = SeededRandom(seed: config.seed, stream: UInt64(block) + 1)
        var lines: [GeneratedLine] = []
        lines.reserveCapacity(Int(Double(quota) * (1.05 + config.duplicateFraction + config.malformedFraction)))
        var summary = GeneratorSummary()
        var produced = 0
        var sequence = UInt64(block) << 32
        var session: [GeneratedLine] = []
        while produced < quota {
            session.removeAll(keepingCapacity: true)
            simulateSession(start: blockStart + Micros(rng.uniform() * Double(blockLength)), rng: &rng, into: &session)
            summary.sessions += 1
            // The last session of the hour is cut to the quota, keeping its earliest events.
            if produced + session.count > quota {
                session.sort { $0.time < $1.time }
                session.removeLast(produced + session.count - quota)
            }
            for var line in session {
                produced += 1
                switch line.eventType {
                case Self.pageView: summary.pageViews += 1
                case Self.addToCart: summary.addToCarts += 1
                default: summary.purchases += 1
                }
                line.eventID = rng.next()
                // Most events arrive within two seconds; a few are delayed by minutes.
                if rng.bernoulli(config.lateFraction) {
                    let minutes = rng.bernoulli(0.62) ? 1 + rng.uniform() * 8 : 10.5 + rng.uniform() * 30
                    line.arrival = line.time + Micros(minutes * 60e6)
                    summary.delayed += 1
                    if minutes > 10 { summary.delayedBeyondLateness += 1 }
                } else {
                    line.arrival = line.time + Micros(rng.uniform() * 2e6)
                }
                line.sequence = sequence
                sequence += 1
                lines.append(line)
                if rng.bernoulli(config.duplicateFraction) {
                    var copy = line
                    copy.kind = .duplicate
                    copy.arrival += Micros((1 + rng.uniform() * 240) * 1e6)
                    copy.sequence = sequence
                    sequence += 1
                    lines.append(copy)
                    summary.duplicates += 1
                }
                if config.malformedFraction > 0 && rng.bernoulli(config.malformedFraction) {
                    var bad = line
                    bad.kind = .malformed
                    bad.corruption = UInt8(rng.below(Int(Self.corruptions)))
                    bad.sequence = sequence
                    sequence += 1
                    lines.append(bad)
                    summary.malformed += 1
                }
            }
        }
        summary.events = produced
        summary.lines = lines.count
        return (lines, summary)
    }

    private func simulateSession(start: Micros, rng: inout SeededRandom, into out: inout [GeneratedLine]) {
        let userIndex = world.userDraw.draw(&rng)
        let user = world.users[userIndex]
        let mobile = rng.uniform() < user.mobileShare
        let intent = rng.normal() * 0.7
        let sessionID = rng.next()
        let focus = world.categoryDraw.draw(&rng)
        let views = 1 + rng.geometric(mean: 5.5)
        var t = start
        var seen: [Int32] = []
        var carted: [Int32] = []
        func emit(_ type: UInt8, _ product: Int32, _ exactTime: Micros) {
            // Clickstream timestamps carry milliseconds.
            let time = Timestamp.floorDiv(exactTime, 1000) * 1000
            out.append(
                GeneratedLine(
                    arrival: time, sequence: 0, time: time, kind: .original, eventType: type, corruption: 0,
                    mobile: mobile, user: Int32(userIndex), product: product, eventID: 0, sessionID: sessionID))
        }
        for depth in 0..<views {
            var product: Int32
            var repeatView = false
            if !seen.isEmpty && rng.bernoulli(0.2) {
                product = seen[rng.below(seen.count)]
                repeatView = true
            } else if rng.bernoulli(0.55), !world.productsByCategory[focus].isEmpty {
                product = world.productsByCategory[focus][world.productDrawByCategory[focus].draw(&rng)]
            } else {
                product = Int32(world.productDraw.draw(&rng))
            }
            seen.append(product)
            emit(Self.pageView, product, t)
            let p = world.products[Int(product)]
            let logit =
                -2.7 + 0.95 * user.propensity + 0.9 * p.appeal + 0.75 * intent - 0.45 * p.relativePrice
                + (repeatView ? 0.8 : 0) + 0.06 * Double(min(depth, 12)) - (mobile ? 0.15 : 0)
            if !carted.contains(product) && rng.uniform() < 1 / (1 + exp(-logit)) {
                // Carting usually follows within a minute or two; sometimes much later.
                let delay = min(rng.lognormal(mu: log(45), sigma: 1.1), 45 * 60)
                emit(Self.addToCart, product, t + Micros(delay * 1e6))
                carted.append(product)
            }
            t += Micros(min(rng.lognormal(mu: log(35), sigma: 0.95), 20 * 60) * 1e6)
        }
        let sessionEnd = max(out.map(\.time).max() ?? t, t)
        for product in carted {
            let logit = -0.3 + 0.8 * user.propensity + 0.5 * intent
            if rng.uniform() < 1 / (1 + exp(-logit)) {
                emit(Self.purchase, product, sessionEnd + Micros(rng.lognormal(mu: log(90), sigma: 0.8) * 1e6))
            }
        }
    }
}
