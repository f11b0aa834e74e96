import Foundation

/// A plain HTTP/1.1 request over a loopback socket, for tests that check a server from outside.
public enum HTTPGet {
    public struct Response {
        public let status: Int
        public let head: String
        public let body: String
    }

    public static func get(port: Int, path: String, timeoutSeconds: Int = 5) throws -> Response {
        try request(port: port, method: "GET", path: path, body: nil, timeoutSeconds: timeoutSeconds)
    }

    public static func request(
        port: Int, method: String, path: String, body: String?, contentType: String = "application/json",
        timeoutSeconds: Int = 5
    ) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisServer.Unavailable(description: "no socket") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = RedisServer.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw RedisServer.Unavailable(description: "nothing listens on port \(port)") }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let body { text += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            guard n > 0 else { break }
            sent += n
        }
        var raw: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = Foundation.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            raw += buffer[0..<n]
        }
        let response = String(decoding: raw, as: UTF8.self)
        let parts = response.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return Response(status: status, head: head, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// Sends `bytes` as they are (half-closing the connection after them when asked) and returns
    /// everything the server sends until it closes the connection ("" when it never does within
    /// the timeout: the read gives up).
    public static func raw(
        port: Int, _ bytes: [UInt8], halfClose: Bool = false, timeoutSeconds: Int = 30
    ) throws -> String {
        let fd = try connected(port: port, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            guard n > 0 else { break }
            sent += n
        }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var raw: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = Foundation.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            raw += buffer[0..<n]
        }
        return String(decoding: raw, as: UTF8.self)
    }

    /// A connected loopback socket with a read timeout.
    public static func connected(port: Int, timeoutSeconds: Int = 5) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisServer.Unavailable(description: "no socket") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = RedisServer.loopback(port: port)
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard ok == 0 else {
            close(fd)
            throw RedisServer.Unavailable(description: "nothing listens on port \(port)")
        }
        return fd
    }

    /// Writes all of `text` to the socket.
    public static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            guard n > 0 else { return }
            sent += n
        }
    }

    /// Reads until what came holds `marker`, the peer closes, or the read times out: what came.
    public static func read(_ fd: Int32, until marker: String? = nil) -> String {
        var raw: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while marker.map({ !String(decoding: raw, as: UTF8.self).contains($0) }) ?? true {
            let n = Foundation.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            raw += buffer[0..<n]
        }
        return String(decoding: raw, as: UTF8.self)
    }
}
