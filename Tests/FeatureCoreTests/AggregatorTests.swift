import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

/// The algebra every aggregator in the catalog must obey, checked on random events: `merge` is
/// commutative and associative with `empty` as its identity, so folding events one by one equals
/// merging the partials of any partition of them in any order; and a partial survives its encoding.
@Suite struct AggregatorTests {
    static let registry = EventFactory.referenceRegistry()

    /// Operations over a categorical field; the rest read `price`.
    static let categorical: Set<String> = [
        "distinct_count", "bounded_unique_count", "approx_unique_count", "histogram",
    ]

    /// One instance of every operation in the catalog, over the reference schema: k = 3, the 90th
    /// percentile, a histogram of products a and b.
    static func everyOperation() throws -> [any Aggregator] {
        try AggregatorCatalog.all.map { type in
            var values: [String: String] = [:]
            if type.argumentKeys.contains("field") {
                values["field"] = categorical.contains(type.name) ? "product_id" : "price"
            }
            if type.argumentKeys.contains("k") { values["k"] = "3" }
            if type.argumentKeys.contains("percentile") { values["percentile"] = "0.9" }
            var arguments = AggregatorArguments(
                schema: registry.schema, operation: type.name, values: values,
                lists: type.argumentKeys.contains("values") ? ["values": ["a", "b"]] : [:])
            return try type.init(arguments: &arguments)
        }
    }

    static func events(seed: UInt64, count: Int) -> [Event] {
        var random = SeededRandom(seed: seed)
        var factory = EventFactory(registry: registry)
        return (0..<count).map { _ in
            // Few distinct times, products and prices, so that ties and repeats happen.
            factory.make(
                EventFactory.at(Double(random.below(20))), product: "p\(random.below(6))",
                price: Double(random.below(5)) * 2.5)
        }
    }

    @Test func everyOperationInTheCatalogHasADistinctNameAndIdentity() throws {
        let operations = try Self.everyOperation()
        #expect(Set(operations.map(\.name)).count == operations.count)
        #expect(Set(operations.map(\.identity)).count == operations.count)
        #expect(AggregatorCatalog.named("sum")?.name == "sum" && AggregatorCatalog.named("nope") == nil)
    }

    @Test(arguments: 0..<20)
    func mergingAnyPartitionInAnyOrderEqualsFoldingOneByOne(seed: Int) throws {
        let events = Self.events(seed: UInt64(seed), count: 1 + seed * 7)
        for operation in try Self.everyOperation() {
            try Self.checkLaws(operation, events, seed: UInt64(seed))
        }
    }

    static func checkLaws<A: Aggregator>(_ a: A, _ events: [Event], seed: UInt64) throws {
        var whole = a.empty
        for e in events { a.update(&whole, with: e) }
        // A random partition into up to four parts, merged in a shuffled order.
        var random = SeededRandom(seed: seed &+ 1000)
        var parts = [A.Partial](repeating: a.empty, count: 4)
        for e in events { a.update(&parts[random.below(4)], with: e) }
        var merged = a.empty
        for i in [2, 0, 3, 1] { a.merge(&merged, with: parts[i]) }
        #expect(merged == whole, "\(a.name): merge of parts")
        var grouped = parts[3]
        a.merge(&grouped, with: parts[1])
        var left = parts[0]
        a.merge(&left, with: parts[2])
        a.merge(&grouped, with: left)
        #expect(grouped == whole, "\(a.name): associativity")
        var withEmpty = whole
        a.merge(&withEmpty, with: a.empty)
        #expect(withEmpty == whole, "\(a.name): empty is the identity")
        // Encoding, relative to the latest event time.
        let latest = events.map(\.time).max() ?? 0
        var writer = StateWriter(lastTime: latest)
        a.encode(whole, to: &writer)
        a.encode(a.empty, to: &writer)
        let bytes = writer.bytes
        let (first, second, remaining) = try decodeTwo(a, bytes, lastTime: latest)
        #expect(first == whole, "\(a.name): round trip")
        #expect(second == a.empty, "\(a.name): empty round trip")
        #expect(remaining == 0)
        // Truncated bytes are an error, never a trap.
        for n in 0..<bytes.count {
            #expect(throws: StateDecodeError.self) { try decodeTwo(a, Array(bytes[0..<n]), lastTime: latest) }
        }
    }

    static func decodeTwo<A: Aggregator>(
        _ a: A, _ bytes: [UInt8], lastTime: Micros
    ) throws -> (A.Partial, A.Partial, Int) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        var reader = StateReader(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]))
        reader.lastTime = lastTime
        let first = try a.decode(from: &reader)
        let second = try a.decode(from: &reader)
        return (first, second, reader.remaining)
    }

    /// Each operation's value, hand-computed on five events.
    @Test func finalValuesOnAHandComputedCase() throws {
        var f = EventFactory(registry: Self.registry)
        let at = EventFactory.at
        let events = [
            f.make(at(3), product: "a", price: 10), f.make(at(1), product: "b", price: 2.5),
            f.make(at(7), product: "a", price: 0.1, id: "x"), f.make(at(7), product: "c", price: 0.2, id: "y"),
            f.make(at(2), product: "b", price: 4),
        ]
        let hashX = StableHash.hash("x")
        let hashY = StableHash.hash("y")
        // Two events at 12:07; the later in (time, id hash) order is the one whose id hashes larger.
        let (earlierAt7, laterAt7) = hashX > hashY ? (0.2, 0.1) : (0.1, 0.2)
        // Moments by hand (two passes over 10, 2.5, 0.1, 0.2, 4; mean 3.36).
        let close: [String: Double] = [
            "variance": 16.463, "stddev": 16.463.squareRoot(), "skew": 0.9464263492790547,
            "kurtosis": -0.5126568547010306,
        ]
        let exact: [String: [Double]] = [
            "count": [5], "sum": [16.8], "distinct_count": [3], "first": [2.5], "duration": [360],
            "last": [laterAt7], "avg": [16.8 / 5], "min": [0.1], "max": [10], "first_k": [2.5, 4, 10],
            "last_k": [laterAt7, earlierAt7, 10], "top_k": [10, 4, 2.5], "bottom_k": [0.1, 0.2, 2.5],
            "histogram": [2, 2, 1], "bounded_unique_count": [3], "approx_unique_count": [3],
            // Seconds from the latest event (12:07) to 12:10.
            "time_since_last": [180],
        ]
        let empty: [String: Double] = [
            "count": 0, "sum": 0, "distinct_count": 0, "histogram": 0, "bounded_unique_count": 0,
            "approx_unique_count": 0,
        ]
        for base in try Self.everyOperation() {
            let name = base.name
            let values = base.outputs.map { Self.value($0, events, asOf: at(10)) }
            if let want = exact[name] {
                #expect(values == want, "\(name)")
            } else if let want = close[name] {
                #expect(abs(values[0] - want) <= 1e-12 * abs(want), "\(name): \(values[0])")
            } else {
                // approx_percentile: the 90th percentile is 4 (rank ⌊0.9 · 4⌋ of five), within 1 %.
                #expect(name == "approx_percentile" && abs(values[0] - 4) <= 0.04, "\(name): \(values[0])")
            }
            for output in base.outputs {
                let none = Self.value(output, [], asOf: at(10))
                #expect(empty[name].map { none == $0 } ?? none.isNaN, "\(name) of nothing: \(none)")
            }
        }
    }

    static func value<A: Aggregator>(_ a: A, _ events: [Event], asOf t: Micros) -> Double {
        var p = a.empty
        for e in events { a.update(&p, with: e) }
        return a.finalize(p, asOf: t)
    }

    /// Sums past what an Int64 of micro-units holds neither wrap nor depend on order: they are kept
    /// in 128 bits. (prod_rev_24h once wrapped negative.)
    /// docs/semantics.md §5: micro-units are rounded, never truncated; halves go away from zero.
    @Test func microUnitsAreRoundedHalfAwayFromZero() {
        #expect(8.2 * 1e6 < 8_200_000)  // binary64: 8199999.999999999
        #expect(SumAggregator.fixedPoint(8.2) == 8_200_000)
        #expect(SumAggregator.fixedPoint(-8.2) == -8_200_000)
        #expect(SumAggregator.fixedPoint(0.0000005) == 1)
        #expect(SumAggregator.fixedPoint(-0.0000025) == -3)
        #expect(SumAggregator.fixedPoint(1e13) == 9_200_000_000_000_000_000)
    }

    @Test func sumsBeyondSixtyFourBitsStayExactAndSurviveTheirEncoding() throws {
        var arguments = AggregatorArguments(schema: Self.registry.schema, operation: "sum", values: ["field": "price"])
        let sum = try SumAggregator(arguments: &arguments)
        var f = EventFactory(registry: Self.registry)
        let prices: [Double] = [9e12, 8e12, -1e12, 7.5e12, 3e12, 1e20]
        let events = prices.map { f.make(EventFactory.at(0), price: $0) }
        var forward = sum.empty
        for e in events { sum.update(&forward, with: e) }
        var backward = sum.empty
        for e in events.reversed() { sum.update(&backward, with: e) }
        #expect(forward == backward)
        // 9e12 + 8e12 - 1e12 + 7.5e12 + 3e12, and 1e20 counted as the bound 9.2e12.
        #expect(sum.finalize(forward) == 35.7e12)
        #expect(forward.int64 == nil)
        let (decoded, empty, remaining) = try Self.decodeTwo(sum, Self.encoded(sum, [forward, sum.empty]), lastTime: 0)
        #expect(decoded == forward && empty == sum.empty && remaining == 0)
        // Negative too.
        var negative = sum.empty
        for p in [-9e12, -9e12, -9e12] { sum.update(&negative, with: f.make(EventFactory.at(0), price: p)) }
        #expect(sum.finalize(negative) == -27e12)
        #expect(try Self.decodeTwo(sum, Self.encoded(sum, [negative, negative]), lastTime: 0).0 == negative)
    }

    static func encoded<A: Aggregator>(_ a: A, _ partials: [A.Partial]) -> [UInt8] {
        var writer = StateWriter(lastTime: 0)
        for p in partials { a.encode(p, to: &writer) }
        return writer.bytes
    }
}
