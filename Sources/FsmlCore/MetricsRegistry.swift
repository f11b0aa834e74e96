import Foundation

/// Counters, gauges and histograms in Prometheus' text exposition format (version 0.0.4): one
/// family per name with its HELP and TYPE lines, histogram buckets cumulative and in increasing
/// `le` order ending with `+Inf` equal to `_count`, base units (seconds). Thread-safe.
public final class MetricsRegistry: @unchecked Sendable {
    public static let latencyBuckets: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
    ]
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    enum Kind: String { case counter, gauge, histogram }

    final class Family {
        let name: String
        let help: String
        let kind: Kind
        let buckets: [Double]
        var series: [String: Series] = [:]
        var order: [String] = []

        init(name: String, help: String, kind: Kind, buckets: [Double]) {
            self.name = name
            self.help = help
            self.kind = kind
            self.buckets = buckets
        }
    }

    final class Series {
        let labels: [(String, String)]
        var value = 0.0
        /// Observations per bucket (not cumulative; the text form adds them up).
        var counts: [UInt64]
        var sum = 0.0
        var count: UInt64 = 0

        init(labels: [(String, String)], buckets: Int) {
            self.labels = labels
            counts = [UInt64](repeating: 0, count: buckets)
        }
    }

    private let lock = NSLockLite()
    private var families: [String: Family] = [:]
    private var familyOrder: [String] = []

    public init() {}

    private func series(
        _ name: String, _ help: String, _ kind: Kind, _ labels: [(String, String)], buckets: [Double] = []
    ) -> Series {
        let family: Family
        if let f = families[name] {
            family = f
        } else {
            family = Family(name: name, help: help, kind: kind, buckets: buckets)
            families[name] = family
            familyOrder.append(name)
        }
        let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        if let s = family.series[key] { return s }
        let s = Series(labels: labels, buckets: family.buckets.count)
        family.series[key] = s
        family.order.append(key)
        return s
    }

    public func add(_ name: String, _ amount: Double = 1, help: String = "", labels: [(String, String)] = []) {
        lock.withLock { series(name, help, .counter, labels).value += amount }
    }

    /// Sets a counter to a total kept elsewhere (CPU seconds from the kernel, say).
    public func setTotal(_ name: String, _ total: Double, help: String = "", labels: [(String, String)] = []) {
        lock.withLock { series(name, help, .counter, labels).value = total }
    }

    public func set(_ name: String, _ value: Double, help: String = "", labels: [(String, String)] = []) {
        lock.withLock { series(name, help, .gauge, labels).value = value }
    }

    public func observe(
        _ name: String, _ value: Double, help: String = "", labels: [(String, String)] = [],
        buckets: [Double] = latencyBuckets
    ) {
        lock.withLock {
            let s = series(name, help, .histogram, labels, buckets: buckets)
            if let i = families[name]!.buckets.firstIndex(where: { value <= $0 }) { s.counts[i] += 1 }
            s.sum += value
            s.count += 1
        }
    }

    /// Many observations of one histogram under one lock.
    public func observe(
        _ name: String, _ values: [Double], help: String = "", labels: [(String, String)] = [],
        buckets: [Double] = latencyBuckets
    ) {
        guard !values.isEmpty else { return }
        lock.withLock {
            let s = series(name, help, .histogram, labels, buckets: buckets)
            let bounds = families[name]!.buckets
            for value in values {
                if let i = bounds.firstIndex(where: { value <= $0 }) { s.counts[i] += 1 }
                s.sum += value
            }
            s.count += UInt64(values.count)
        }
    }

    /// One series resolved once, for per-request paths: updating it skips the name and label
    /// lookups and the label text, and holds the lock only for the arithmetic.
    public struct Handle: @unchecked Sendable {
        fileprivate let series: Series
        fileprivate let bounds: [Double]
    }

    public func counter(_ name: String, help: String = "", labels: [(String, String)] = []) -> Handle {
        lock.withLock { Handle(series: series(name, help, .counter, labels), bounds: []) }
    }

    public func histogram(
        _ name: String, help: String = "", labels: [(String, String)] = [], buckets: [Double] = latencyBuckets
    ) -> Handle {
        lock.withLock {
            Handle(series: series(name, help, .histogram, labels, buckets: buckets), bounds: families[name]!.buckets)
        }
    }

    public func add(_ handle: Handle, _ amount: Double = 1) {
        lock.withLock { handle.series.value += amount }
    }

    public func observe(_ handle: Handle, _ value: Double) {
        let bucket = handle.bounds.firstIndex { value <= $0 }
        lock.withLock {
            let s = handle.series
            if let bucket { s.counts[bucket] += 1 }
            s.sum += value
            s.count += 1
        }
    }

    /// The current value of a counter or gauge (for summaries and tests).
    public func value(_ name: String, labels: [(String, String)] = []) -> Double {
        lock.withLock {
            let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            return families[name]?.series[key]?.value ?? 0
        }
    }

    public func render() -> String {
        lock.withLock {
            var out = ""
            for name in familyOrder {
                let f = families[name]!
                if !f.help.isEmpty { out += "# HELP \(name) \(Self.escapeHelp(f.help))\n" }
                out += "# TYPE \(name) \(f.kind.rawValue)\n"
                for key in f.order {
                    let s = f.series[key]!
                    switch f.kind {
                    case .counter, .gauge:
                        out += "\(name)\(Self.labelText(s.labels)) \(Self.number(s.value))\n"
                    case .histogram:
                        var cumulative: UInt64 = 0
                        for (i, bound) in f.buckets.enumerated() {
                            cumulative += s.counts[i]
                            out +=
                                "\(name)_bucket\(Self.labelText(s.labels + [("le", Self.number(bound))])) \(cumulative)\n"
                        }
                        out += "\(name)_bucket\(Self.labelText(s.labels + [("le", "+Inf")])) \(s.count)\n"
                        out += "\(name)_sum\(Self.labelText(s.labels)) \(Self.number(s.sum))\n"
                        out += "\(name)_count\(Self.labelText(s.labels)) \(s.count)\n"
                    }
                }
            }
            return out
        }
    }

    static func labelText(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escapeLabel(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "+Inf" : "-Inf" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }
}
