import Foundation
import FsmlCore

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
