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

/// A minimal HTTP/1.1 responder on a loopback port for `GET /metrics` (and `/healthz`), on its own
/// thread: what a stream job needs for a Prometheus scrape without a web framework.
public final class MetricsHTTPServer: @unchecked Sendable {
    public let port: Int
    private let socket: Int32
    private let registry: MetricsRegistry

    public init(host: String = "127.0.0.1", port: Int, registry: MetricsRegistry) throws {
        self.registry = registry
        let fd = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FsmlIOError.cannotOpen("socket", errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw FsmlIOError.cannotOpen("\(host):\(port) for metrics", code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        socket = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        let thread = Thread { [self] in serve() }
        thread.name = "fsml-metrics"
        thread.start()
    }

    private func serve() {
        while true {
            let client = accept(socket, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = read(client, &buffer, buffer.count)
            let request = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
            let line = request.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
            let (status, type, body): (String, String, String)
            if line.hasPrefix("GET /metrics") {
                (status, type, body) = ("200 OK", MetricsRegistry.contentType, registry.render())
            } else if line.hasPrefix("GET /healthz") {
                (status, type, body) = ("200 OK", "application/json", "{\"status\":\"ok\"}\n")
            } else {
                (status, type, body) = ("404 Not Found", "application/json", "{\"error\":\"not found\"}\n")
            }
            let response =
                "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            let bytes = Array(response.utf8)
            var offset = 0
            while offset < bytes.count {
                let w = bytes.withUnsafeBytes { write(client, $0.baseAddress! + offset, $0.count - offset) }
                if w <= 0 { break }
                offset += w
            }
            close(client)
        }
    }
}
