import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

@testable import Serving

/// The server as a misbehaving client meets it, on a live loopback port: half-sent requests are
/// cut off after their deadline, malformed ones get a 4xx with a JSON body, never a 5xx.
@Suite(.serialized) struct HTTPServerConnectionTests {
    final class Running: @unchecked Sendable {
        let task: Task<Void, any Error>
        let port: Int

        init(limits: ServeHTTP.Limits) throws {
            let fixture = try PredictionServiceTests.Fixture()
            let bound = PortBox()
            task = Task {
                try await ServeHTTP.run(
                    service: fixture.service, metrics: MetricsRegistry(), host: "127.0.0.1", port: 0, limits: limits
                ) { bound.set($0) }
            }
            port = bound.wait()
        }

        deinit { task.cancel() }
    }

    final class PortBox: @unchecked Sendable {
        private let ready = DispatchSemaphore(value: 0)
        private var port = 0
        func set(_ p: Int) {
            port = p
            ready.signal()
        }
        func wait() -> Int {
            ready.wait()
            return port
        }
    }

    /// Deadlines no request that is sent whole can miss, however busy the machine.
    static let patient = ServeHTTP.Limits(headTimeout: 60, bodyTimeout: 60, maxConnections: 64)
    /// Deadlines that half-sent requests meet quickly.
    static let strict = ServeHTTP.Limits(headTimeout: 0.5, bodyTimeout: 0.5, maxConnections: 8)
    static let body = #"{"user_id":"u1","product_id":"p1"}"#

    static func status(_ response: String) -> Int { Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0 }

    static func jsonBody(_ response: String) throws -> [String: Any] {
        let text = response.components(separatedBy: "\r\n\r\n").dropFirst().joined()
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    @Test func malformedRequestsGetAJSON4xxNever5xx() throws {
        let server = try Running(limits: Self.patient)
        let cases: [(String, [UInt8], Bool, Int)] = [
            (
                "a body shorter than its length, then half-close",
                Array("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n\(Self.body)".utf8), true, 400
            ),
            (
                "a bad chunk size",
                Array(
                    "POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".utf8
                ),
                false, 400
            ),
            (
                "a negative Content-Length",
                Array("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".utf8), false, 400
            ),
            (
                "both Content-Length and Transfer-Encoding",
                Array(
                    "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                        .utf8),
                false, 400
            ),
            (
                "an oversized header",
                Array(
                    "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n".utf8),
                false, 431
            ),
            (
                "an oversized URL",
                Array("GET /features/user/\(String(repeating: "a", count: 100_000)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
                false, 431
            ),
            (
                "duplicate keys",
                Array(
                    "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 46\r\n\r\n{\"user_id\":\"u\",\"user_id\":\"v\",\"product_id\":\"p\"}"
                        .utf8), false, 400
            ),
        ]
        for (what, bytes, halfClose, expected) in cases {
            let response = try HTTPGet.raw(port: server.port, bytes, halfClose: halfClose)
            #expect(Self.status(response) == expected, "\(what): \(response.prefix(200))")
            #expect(response.contains("Content-Type: application/json"), "\(what)")
            #expect(try Self.jsonBody(response)["error"] is String, "\(what)")
        }
    }

    @Test func aDeclaredBodyOverTheLimitIsRefusedBeforeItIsSent() throws {
        let server = try Running(limits: Self.patient)
        // The body never comes: the answer and the close must not wait for it.
        let response = try HTTPGet.raw(
            port: server.port, Array("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n".utf8))
        #expect(Self.status(response) == 413 && response.contains("Connection: close"))
        #expect(try Self.jsonBody(response)["error"] as? String == "the body is over 64 KiB")
    }

    /// A client that sends `Expect: 100-continue` is told to go on, then answered.
    @Test func aClientThatExpectsContinueIsToldToGoOn() throws {
        let server = try Running(limits: Self.patient)
        let response = try HTTPGet.raw(
            port: server.port,
            Array(
                "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
                    .utf8))
        #expect(response.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"), "\(response.prefix(200))")
    }

    /// Each deadline alone (the other one long), so that which one expires does not depend on speed.
    @Test func halfSentRequestsAreCutOffWithA408() throws {
        let server = try Running(limits: ServeHTTP.Limits(headTimeout: 0.5, bodyTimeout: 600, maxConnections: 8))
        let head = try HTTPGet.raw(port: server.port, Array("POST /predict HTTP/1.1\r\nHost: x\r\n".utf8))
        let headError = try Self.jsonBody(head)["error"] as? String
        #expect(Self.status(head) == 408 && headError?.contains("no complete request") == true)
        let bodyServer = try Running(limits: ServeHTTP.Limits(headTimeout: 600, bodyTimeout: 0.5, maxConnections: 8))
        let body = try HTTPGet.raw(
            port: bodyServer.port,
            Array("POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"user".utf8))
        let bodyError = try Self.jsonBody(body)["error"] as? String
        #expect(Self.status(body) == 408 && bodyError?.contains("the body") == true)
    }

    /// More idle and half-sent clients than the server takes at once: each is cut off after its
    /// deadline, so a real request is answered once its turn comes. (On a machine so busy that the
    /// real request itself misses the short deadline, it is sent again.)
    @Test func idleClientsCannotStarveTheServer() throws {
        let server = try Running(limits: Self.strict)
        var idle: [Int32] = []
        for i in 0..<40 {
            let fd = try HTTPGet.connected(port: server.port)
            if i % 2 == 0 { _ = Array("GET /heal".utf8).withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } }
            idle.append(fd)
        }
        defer { for fd in idle { close(fd) } }
        var answer = try HTTPGet.get(port: server.port, path: "/healthz", timeoutSeconds: 60)
        for _ in 0..<100 where answer.status == 408 {
            answer = try HTTPGet.get(port: server.port, path: "/healthz", timeoutSeconds: 60)
        }
        #expect(answer.status == 200)
        var head = try HTTPGet.request(port: server.port, method: "HEAD", path: "/healthz", body: nil)
        for _ in 0..<100 where head.status == 408 {
            head = try HTTPGet.request(port: server.port, method: "HEAD", path: "/healthz", body: nil)
        }
        #expect(head.status == 200 && head.body.isEmpty)
    }
}
