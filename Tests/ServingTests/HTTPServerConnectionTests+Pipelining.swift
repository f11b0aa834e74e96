import Foundation
import FsmlCore
import FsmlTestSupport
import NIOCore
import Testing

@testable import Serving

/// Requests sent back to back in one write, on a live loopback port, some answered at once and
/// some later (on a later pass of the event loop, as a Redis read is): the answers come in the
/// order the requests were sent, each whole, and the connection closes after the last. In the
/// serialized suite of the other live tests: each blocks a thread of the shared pool while its
/// server starts on another, and two at once could leave none for the servers.
extension HTTPServerConnectionTests {
    static func pipeliningRoutes() -> HTTPRoutes {
        var routes = HTTPRoutes()
        routes.add("GET", "/now") { _ in HTTPAnswer(status: 200, body: "now", contentType: "text/plain") }
        routes.add(
            "POST", "/later",
            later: { request, loop, done in
                let body = String(decoding: request.body, as: UTF8.self)
                loop.execute { done(HTTPAnswer(status: 200, body: "later \(body)", contentType: "text/plain")) }
            })
        return routes
    }

    @Test func pipelinedAnswersComeInRequestOrder() throws {
        let bound = PortBox()
        let task = Task {
            try await HTTPServer.run(
                routes: Self.pipeliningRoutes(), metrics: MetricsRegistry(), host: "127.0.0.1", port: 0,
                limits: Self.patient, handleSignals: false
            ) { bound.set($0) }
        }
        defer { task.cancel() }
        let port = bound.wait()
        let requests =
            "POST /later HTTP/1.1\r\nContent-Length: 1\r\n\r\na"
            + "GET /now HTTP/1.1\r\n\r\n"
            + "POST /later HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"
            + "POST /later HTTP/1.1\r\nContent-Length: 1\r\n\r\nc"
            + "GET /now HTTP/1.1\r\nConnection: close\r\n\r\n"
        let response = try HTTPGet.raw(port: port, Array(requests.utf8))
        let bodies = response.components(separatedBy: "HTTP/1.1 ").dropFirst().map { answer in
            #expect(answer.hasPrefix("200 OK\r\n"), "\(answer)")
            return answer.components(separatedBy: "\r\n\r\n").dropFirst().joined()
        }
        #expect(bodies == ["later a", "now", "later b", "later c", "now"])
        // Only the last answer closes the connection.
        #expect(response.hasSuffix("Connection: close\r\n\r\nnow"))
        #expect(response.components(separatedBy: "Connection: close").count == 2)
    }
}
