import FeatureCore
import Foundation

/// Every operation of docs/semantics.md §5, computed the slow way from the events a window holds:
/// the operation's type and arguments are read as data, none of its code runs. Exact operations
/// are expected bit for bit; the moments within rounding of a two-pass computation; the sketches
/// within their documented error bounds.
enum OracleOperations {
    typealias Row = FeatureOracle.Row

    static func numbers(_ events: [Row], _ field: String) -> [Double] {
        events.compactMap { if case .number(let x)? = $0.fields[field] { return x } else { return nil } }
    }

    /// Micro-units, rounded half away from zero, saturated at ±9.2e18.
    static func micros(_ x: Double) -> Int64 {
        let scaled = (x * 1_000_000).rounded()
        if scaled >= 9.2e18 { return 9_200_000_000_000_000_000 }
        if scaled <= -9.2e18 { return -9_200_000_000_000_000_000 }
        return Int64(scaled)
    }

    static func exactSum(_ xs: [Double]) -> Double {
        Double(xs.reduce(Int128(0)) { $0 + Int128(micros($1)) }) / 1_000_000
    }

    /// FNV-1a over the UTF-8 bytes, then the murmur3 64-bit finalizer: the documented tie-break hash.
    static func tieHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        h = (h ^ (h >> 33)) &* 0xff51_afd7_ed55_8ccd
        h = (h ^ (h >> 33)) &* 0xc4ce_b9fe_1a85_ec53
        return h ^ (h >> 33)
    }

    /// Events in (time, tie-break) order, earliest first.
    static func chronological(_ events: [Row]) -> [Row] {
        events.sorted { ($0.time, tieHash($0.id)) < ($1.time, tieHash($1.id)) }
    }

    static func value(_ operation: any Aggregator, _ events: [Row], asOf t: Int64, schema: EventSchema) -> Expected {
        func name(_ field: Int) -> String { schema.fields[field].name }
        func element(_ list: [Double], _ i: Int?) -> Expected {
            .exactly(i.map { $0 < list.count ? list[$0] : .nan } ?? .nan)
        }
        switch operation {
        case is CountAggregator:
            return .exactly(Double(events.count))
        case let op as SumAggregator:
            return .exactly(exactSum(numbers(events, name(op.field))))
        case let op as DistinctCountAggregator:
            return .exactly(Double(Set(events.compactMap { $0.fields[name(op.field)] }).count))
        case let op as FirstAggregator:
            guard let e = chronological(events).first else { return .exactly(.nan) }
            return .exactly(numbers([e], name(op.field)).first ?? .nan)
        case let op as LastAggregator:
            guard let e = chronological(events).last else { return .exactly(.nan) }
            return .exactly(numbers([e], name(op.field)).first ?? .nan)
        case is DurationAggregator:
            guard let lo = events.map(\.time).min(), let hi = events.map(\.time).max() else { return .exactly(.nan) }
            return .exactly(Double(hi - lo) / 1_000_000)
        case let op as AvgAggregator:
            let xs = numbers(events, name(op.field))
            return .exactly(xs.isEmpty ? .nan : exactSum(xs) / Double(xs.count))
        case let op as MinAggregator:
            return .exactly(numbers(events, name(op.field)).min(by: totalLess) ?? .nan)
        case let op as MaxAggregator:
            return .exactly(numbers(events, name(op.field)).max(by: totalLess) ?? .nan)
        case let op as VarianceAggregator:
            return variance(numbers(events, name(op.field)), sample: op.sample, root: false)
        case let op as StddevAggregator:
            return variance(numbers(events, name(op.field)), sample: op.sample, root: true)
        case let op as SkewAggregator:
            return moment(numbers(events, name(op.field)), skew: true)
        case let op as KurtosisAggregator:
            return moment(numbers(events, name(op.field)), skew: false)
        case let op as FirstKAggregator:
            let ordered = chronological(events.filter { $0.fields[name(op.field)] != nil })
            return element(picked(ordered, name(op.field), distinct: op.distinct), op.output)
        case let op as LastKAggregator:
            let ordered = chronological(events.filter { $0.fields[name(op.field)] != nil }).reversed()
            return element(picked(Array(ordered), name(op.field), distinct: op.distinct), op.output)
        case let op as TopKAggregator:
            return element(numbers(events, name(op.field)).sorted { totalLess($1, $0) }, op.output)
        case let op as BottomKAggregator:
            return element(numbers(events, name(op.field)).sorted(by: totalLess), op.output)
        case let op as HistogramAggregator:
            return .exactly(histogram(events, op, schema: schema))
        case is TimeSinceLastAggregator:
            guard let latest = events.map(\.time).max() else { return .exactly(.nan) }
            return .exactly(Double(t - latest) / 1_000_000)
        case let op as BoundedUniqueCountAggregator:
            return .exactly(Double(min(Set(events.compactMap { $0.fields[name(op.field)] }).count, op.k)))
        case let op as ApproxUniqueCountAggregator:
            let exact = Double(Set(events.compactMap { $0.fields[name(op.field)] }).count)
            // Four standard errors of HyperLogLog (4 · 1.04 / √(2^p)); at small counts the error is
            // register collisions, of which three among a window's values are already rare.
            return Expected(value: exact, relative: 4 * 1.04 / Double(1 << op.precision).squareRoot(), absolute: 3)
        case let op as ApproxPercentileAggregator:
            let xs = numbers(events, name(op.field)).sorted()
            guard !xs.isEmpty else { return .exactly(.nan) }
            let exact = xs[Int((op.percentile * Double(xs.count - 1)).rounded(.down))]
            return Expected(value: exact, relative: op.accuracy * (1 + 1e-12), absolute: 1e-9)
        default:
            fatalError("the oracle does not know \(operation.name)")
        }
    }

    /// IEEE total order (−0 before +0), strict.
    static func totalLess(_ a: Double, _ b: Double) -> Bool {
        a.isTotallyOrdered(belowOrEqualTo: b) && a.bitPattern != b.bitPattern
    }

    /// Values of `ordered` (best first), each value once when `distinct`.
    static func picked(_ ordered: [Row], _ field: String, distinct: Bool) -> [Double] {
        var out: [Double] = []
        var seen: Set<UInt64> = []
        for x in numbers(ordered, field) where !distinct || seen.insert(x.bitPattern).inserted { out.append(x) }
        return out
    }

    static func histogram(_ events: [Row], _ op: HistogramAggregator, schema: EventSchema) -> Double {
        let field = schema.fields[op.field]
        guard let i = op.output else { return .nan }
        let values = events.compactMap { $0.fields[field.name] }
        func category(_ c: String) -> FeatureOracle.Value {
            switch field.type {
            case .int, .float, .timestamp: return .number(Double(c)!)
            case .bool: return .bool(c == "true")
            case .string: return .string(c)
            }
        }
        let categories = op.categories.map(category)
        if i < categories.count { return Double(values.filter { $0 == categories[i] }.count) }
        return Double(values.filter { !categories.contains($0) }.count)
    }

    /// Two passes over the values in micro-units.
    static func variance(_ xs: [Double], sample: Bool, root: Bool) -> Expected {
        let a = xs.map { Double(micros($0)) }
        guard a.count > (sample ? 1 : 0) else { return .exactly(.nan) }
        let mean = a.reduce(0, +) / Double(a.count)
        let ss = a.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let v = ss / Double(sample ? a.count - 1 : a.count) / 1e12
        return Expected(value: root ? v.squareRoot() : v, relative: 1e-9, absolute: 1e-12)
    }

    static func moment(_ xs: [Double], skew: Bool) -> Expected {
        let a = xs.map { Double(micros($0)) }
        guard !a.isEmpty, Set(a).count > 1 else { return .exactly(.nan) }
        let n = Double(a.count)
        let mean = a.reduce(0, +) / n
        let m2 = a.reduce(0) { $0 + pow($1 - mean, 2) } / n
        let m3 = a.reduce(0) { $0 + pow($1 - mean, 3) } / n
        let m4 = a.reduce(0) { $0 + pow($1 - mean, 4) } / n
        return Expected(value: skew ? m3 / pow(m2, 1.5) : m4 / (m2 * m2) - 3, relative: 1e-7, absolute: 1e-7)
    }

    /// Σ term · 2^(−(t − time) / half-life), term 1 for a count and the value for a sum.
    static func decayed(
        _ operation: any Aggregator, _ events: [Row], halfLife: Int64, asOf t: Int64, schema: EventSchema
    ) -> Expected {
        var total = 0.0
        for e in events {
            let term: Double
            switch operation {
            case is CountAggregator: term = 1
            case let op as SumAggregator:
                guard case .number(let x)? = e.fields[schema.fields[op.field].name] else { continue }
                term = x
            default: fatalError("a decayed window weights count and sum only")
            }
            total += term * exp2(-Double(t - e.time) / Double(halfLife))
        }
        // Each weighted term is kept to a micro-unit.
        return Expected(value: total, relative: 1e-9, absolute: 1e-6 * Double(events.count + 1))
    }
}
