import Foundation
import FsmlCore
import Streaming
import Testing

@Suite struct MetricsHTTPServerTests {
    @Test func theHTTPEndpointServesTheTextWithItsContentType() throws {
        let m = MetricsRegistry()
        m.add("fsml_up_total", 1)
        let server = try MetricsHTTPServer(port: 0, registry: m)
        let response = try Self.get(port: server.port, path: "/metrics")
        #expect(response.contains("HTTP/1.1 200 OK"))
        #expect(response.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"))
        #expect(response.hasSuffix("fsml_up_total 1\n"))
        #expect(try Self.get(port: server.port, path: "/nope").contains("404"))
    }

    static func get(port: Int, path: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(ok == 0)
        let request = Array("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
