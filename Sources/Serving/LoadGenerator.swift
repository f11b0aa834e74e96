import Foundation
import FsmlCore
import Histogram
import Synchronization

/// Open-loop load at a constant arrival rate: request i is due at start + i/rate whatever happened
/// to earlier ones, and its latency runs from that due time, so a slow server is charged for the
/// queue it causes (no coordinated omission). Keep-alive HTTP/1.1 connections, one thread each.
public struct LoadGenerator: Sendable {
    public struct Result: Sendable {
        /// Latencies in microseconds.
        public var histogram: Histogram<UInt64>
        public var errors: [String: Int]
        public var sent: Int
        public var seconds: Double
        public var statusCounts: [Int: Int]

        public var achievedRate: Double { seconds > 0 ? Double(histogram.totalCount) / seconds : 0 }

        public func percentile(_ p: Double) -> Double { Double(histogram.valueAtPercentile(p)) / 1000 }

        public var maxMillis: Double { Double(histogram.max) / 1000 }
    }

    public var host: String
    public var port: Int
    public var rate: Double
    public var duration: Double
    public var connections: Int
    /// The request for index i: method, path and body.
    public var request: @Sendable (Int) -> (method: String, path: String, body: [UInt8])
    public var timeoutSeconds = 5.0

    public init(
        host: String, port: Int, rate: Double, duration: Double, connections: Int,
        request: @escaping @Sendable (Int) -> (method: String, path: String, body: [UInt8])
    ) {
        self.host = host
        self.port = port
        self.rate = rate
        self.duration = duration
        self.connections = connections
        self.request = request
    }

    public func run() -> Result {
        let total = max(1, Int(rate * duration))
        let next = Atomic<Int>(0)
        let start = monotonicNanos() + 50_000_000
        let interval = 1e9 / rate
        let totals = Totals()
        let group = DispatchGroup()
        for _ in 0..<connections {
            group.enter()
            let thread = Thread {
                var local = Histogram<UInt64>(
                    highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
                var localErrors: [String: Int] = [:]
                var localStatuses: [Int: Int] = [:]
                var connection: HTTPConnection?
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if i >= total { break }
                    let due = start + UInt64(Double(i) * interval)
                    let now = monotonicNanos()
                    if due > now { sleepNanos(due - now) }
                    let (method, path, body) = request(i)
                    do {
                        if connection == nil {
                            connection = try HTTPConnection(host: host, port: port, timeout: timeoutSeconds)
                        }
                        let status = try connection!.send(method: method, path: path, body: body)
                        localStatuses[status, default: 0] += 1
                        if status >= 400 { localErrors["http \(status)", default: 0] += 1 }
                    } catch {
                        localErrors[error.kind, default: 0] += 1
                        connection = nil
                    }
                    let done = monotonicNanos()
                    _ = local.record(min(119_000_000, (done - min(due, done)) / 1000))
                }
                totals.lock.withLock {
                    totals.histogram.add(local)
                    totals.errors.merge(localErrors, uniquingKeysWith: +)
                    totals.statuses.merge(localStatuses, uniquingKeysWith: +)
                }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        let seconds = Double(monotonicNanos() - start) / 1e9
        return totals.lock.withLock {
            Result(
                histogram: totals.histogram, errors: totals.errors, sent: total, seconds: seconds,
                statusCounts: totals.statuses)
        }
    }

    /// What the connection threads add up, under a lock.
    final class Totals: @unchecked Sendable {
        let lock = NSLockLite()
        var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
        var errors: [String: Int] = [:]
        var statuses: [Int: Int] = [:]
    }
}

struct LoadError: Error {
    var kind: String
}

extension Error {
    var kind: String { (self as? LoadError)?.kind ?? "io" }
}

/// A minimal keep-alive HTTP/1.1 client connection: enough for a load generator.
final class HTTPConnection {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    private var pending: [UInt8] = []
    private let hostHeader: String

    init(host: String, port: Int, timeout: Double) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoadError(kind: "socket") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &addr.sin_addr) == 1 else {
            close(fd)
            throw LoadError(kind: "address")
        }
        let socketFD = fd
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw LoadError(kind: "connect")
        }
        hostHeader = "\(host):\(port)"
    }

    deinit { close(fd) }

    /// Sends one request and reads the whole response; returns its status.
    func send(method: String, path: String, body: [UInt8]) throws -> Int {
        try exchange(method: method, path: path, body: body, keepBody: false).status
    }

    /// Sends one request and reads the whole response; its body is copied out only when kept (the
    /// load generator's requests never need it).
    func exchange(
        method: String, path: String, body: [UInt8], keepBody: Bool = true
    ) throws -> (status: Int, body: [UInt8]) {
        var request = Array("\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\n".utf8)
        if !body.isEmpty || method == "POST" {
            request += Array("Content-Type: application/json\r\nContent-Length: \(body.count)\r\n".utf8)
        }
        request += Array("\r\n".utf8) + body
        var offset = 0
        while offset < request.count {
            let n = request.withUnsafeBytes { write(fd, $0.baseAddress! + offset, request.count - offset) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                throw LoadError(kind: errno == EAGAIN ? "timeout" : "write")
            }
            offset += n
        }
        // Headers.
        var headerEnd: Int?
        while headerEnd == nil {
            headerEnd = Self.find(pending, [13, 10, 13, 10])
            if headerEnd == nil { try fill() }
        }
        let head = String(decoding: pending[..<headerEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw LoadError(kind: "protocol") }
        var length = 0
        for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let bodyStart = headerEnd! + 4
        while pending.count < bodyStart + length { try fill() }
        let answer = keepBody ? Array(pending[bodyStart..<(bodyStart + length)]) : []
        pending.removeFirst(bodyStart + length)
        return (status, answer)
    }

    private func fill() throws {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n == 0 { throw LoadError(kind: "closed") }
        if n < 0 {
            if errno == EINTR { return }
            throw LoadError(kind: errno == EAGAIN || errno == EWOULDBLOCK ? "timeout" : "read")
        }
        pending += buffer[0..<n]
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }
}
