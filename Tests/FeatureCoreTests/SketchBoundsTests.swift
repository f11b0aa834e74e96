import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

/// The approximate operations against exact answers on generated data, at the error bounds
/// docs/semantics.md states: HyperLogLog's standard error 1.04 / √(2^p), DDSketch's relative
/// accuracy α at every percentile.
@Suite struct SketchBoundsTests {
    static let registry = EventFactory.referenceRegistry()

    static func operation<A: Aggregator>(_ type: A.Type, _ values: [String: String]) throws -> A {
        var arguments = AggregatorArguments(schema: registry.schema, operation: A.name, values: values)
        return try A(arguments: &arguments)
    }

    @Test(arguments: [8, 12])
    func hyperLogLogStaysWithinItsStandardError(precision: Int) throws {
        let hll = try Self.operation(
            ApproxUniqueCountAggregator.self, ["field": "product_id", "precision": "\(precision)"])
        let standardError = 1.04 / Double(1 << precision).squareRoot()
        var factory = EventFactory(registry: Self.registry)
        for n in [10, 100, 1_000, 20_000] {
            var squares = 0.0
            var worst = 0.0
            let trials = 12
            for trial in 0..<trials {
                var partial = hll.empty
                // Each value twice, in two halves merged afterwards: repeats and merges change nothing.
                var second = hll.empty
                for i in 0..<n {
                    let e = factory.make(EventFactory.at(0), product: "t\(trial)-p\(i)")
                    hll.update(&partial, with: e)
                    hll.update(&second, with: e)
                }
                hll.merge(&partial, with: second)
                let relative = (hll.finalize(partial) - Double(n)) / Double(n)
                squares += relative * relative
                worst = max(worst, abs(relative))
            }
            let rms = (squares / Double(trials)).squareRoot()
            // The RMS error of a dozen sketches is near the standard error; none is past four.
            #expect(rms <= 1.5 * standardError, "n = \(n), p = \(precision): RMS \(rms)")
            #expect(worst <= 4 * standardError, "n = \(n), p = \(precision): worst \(worst)")
        }
    }

    @Test(arguments: [0.01, 0.05])
    func ddSketchIsWithinItsRelativeAccuracyAtEveryPercentile(accuracy: Double) throws {
        var random = SeededRandom(seed: 7)
        var factory = EventFactory(registry: Self.registry)
        // Log-normal prices over six decades, some negative, some zero.
        let values: [Double] = (0..<5_000).map { i in
            if i % 97 == 0 { return 0 }
            let x = exp(random.uniform() * 14 - 7)
            return i % 13 == 0 ? -x : x
        }
        let events = values.map { factory.make(EventFactory.at(0), price: $0) }
        let sorted = values.sorted()
        for q in stride(from: 0.0, through: 1.0, by: 0.05) {
            let op = try Self.operation(
                ApproxPercentileAggregator.self,
                ["field": "price", "percentile": "\(q)", "relative_accuracy": "\(accuracy)"])
            var partial = op.empty
            for e in events { op.update(&partial, with: e) }
            let exact = sorted[Int((q * Double(sorted.count - 1)).rounded(.down))]
            let estimate = op.finalize(partial)
            #expect(abs(estimate - exact) <= accuracy * abs(exact) * (1 + 1e-12), "q = \(q): \(estimate) for \(exact)")
        }
    }
}
