import NIOCore
import NIOEmbedded
import Testing

@testable import Serving

/// Routing: patterns with parameters, the status of a known path asked with the wrong method, an
/// unknown path, HEAD, and the route index the metrics label.
@Suite struct HTTPRoutesTests {
    static let routes: HTTPRoutes = {
        var r = HTTPRoutes()
        r.add("POST", "/predict") { HTTPAnswer(status: 200, body: String(decoding: $0.body, as: UTF8.self)) }
        r.add("GET", "/features/:entity/:id") { request in
            let entity = request.parameters["entity"] ?? ""
            let id = request.parameters["id"] ?? ""
            return HTTPAnswer(status: 200, body: "\(entity)|\(id)|\(request.query ?? "-")")
        }
        r.add("GET", "/healthz") { _ in HTTPAnswer(status: 200, body: "ok") }
        return r
    }()

    static func text(_ a: HTTPAnswer) -> String { String(decoding: a.body, as: UTF8.self) }

    static let loop = EmbeddedEventLoop()

    /// The answer of a route that answers at once.
    static func respond(_ method: String, _ uri: String, body: [UInt8] = []) -> (route: Int, answer: HTTPAnswer) {
        let (route, answer) = routes.respond(method: method, uri: uri, body: body, on: loop) { _ in }
        return (route, answer ?? .error(500, "answered later"))
    }

    @Test func patternsMatchWithTheirParametersAndTheQueryApart() {
        let (route, answer) = Self.respond("GET", "/features/user/u%201?x=1")
        #expect(Self.routes.name(of: route) == "/features/:entity/:id")
        #expect(answer.status == 200 && Self.text(answer) == "user|u%201|x=1")
        let posted = Self.respond("POST", "/predict", body: Array("{}".utf8))
        #expect(Self.routes.name(of: posted.route) == "/predict" && Self.text(posted.answer) == "{}")
    }

    /// A parameterless path goes, without the walk, where the walk would send it: to an earlier
    /// pattern with parameters that matches it too, and HEAD to GET.
    @Test func exactPathsGoWhereTheWalkWouldSendThem() {
        var r = HTTPRoutes()
        r.add("GET", "/:name") { HTTPAnswer(status: 200, body: "name=\($0.parameters["name"] ?? "")") }
        r.add("GET", "/healthz") { _ in HTTPAnswer(status: 200, body: "healthz") }
        r.add("POST", "/healthz") { _ in HTTPAnswer(status: 201, body: "posted") }
        r.add("GET", "/a/b") { _ in HTTPAnswer(status: 200, body: "ab") }
        func answer(_ method: String, _ uri: String) -> String {
            let a = r.respond(method: method, uri: uri, body: [], on: Self.loop) { _ in }.answer!
            return "\(a.status) \(Self.text(a))"
        }
        #expect(answer("GET", "/healthz") == "200 name=healthz")
        #expect(answer("POST", "/healthz?x") == "201 posted")
        #expect(answer("HEAD", "/healthz") == "200 ")
        #expect(answer("GET", "/a/b") == "200 ab")
        #expect(answer("PUT", "/a/b").hasPrefix("405 "))
    }

    @Test func aLengthIsWrittenAsItsDigits() {
        for n in [0, 7, 10, 99, 100, 65_536, 1 << 40, Int.max] {
            var buffer = ByteBuffer()
            HTTPResponseWriter.writeDecimal(n, into: &buffer)
            #expect(buffer.readString(length: buffer.readableBytes) == String(n))
        }
    }

    @Test func aKnownPathWithTheWrongMethodIsA405NamingTheAllowedOne() {
        let (route, answer) = Self.respond("GET", "/predict")
        #expect(answer.status == 405)
        #expect(answer.headers.contains { $0.0 == "Allow" && $0.1 == "POST" })
        #expect(Self.text(answer).contains("/predict takes POST"))
        #expect(Self.routes.name(of: route) == "/predict")
    }

    @Test func unknownPathsAndMissingParametersAre404s() {
        for uri in ["/nope", "/features/user", "/features/user/", "/features//u1", "/healthz/x", "", "/"] {
            let (route, answer) = Self.respond("GET", uri)
            #expect(answer.status == 404, "\(uri)")
            #expect(Self.routes.name(of: route) == "unknown", "\(uri)")
            #expect(Self.text(answer).contains("\"error\""), "\(uri)")
        }
    }

    @Test func aLaterAnswerCompletesOnTheLoopItIsGiven() throws {
        var routes = HTTPRoutes()
        routes.add(
            "GET", "/slow",
            later: { _, loop, done in loop.execute { done(HTTPAnswer(status: 200, body: "late")) } })
        let promise = Self.loop.makePromise(of: HTTPAnswer.self)
        let (route, now) = routes.respond(method: "HEAD", uri: "/slow", body: [], on: Self.loop) {
            promise.succeed($0)
        }
        #expect(now == nil)
        Self.loop.run()
        let answer = try promise.futureResult.wait()
        #expect(routes.name(of: route) == "/slow" && answer.status == 200 && answer.body.isEmpty)
    }

    @Test func headIsGetWithoutTheBody() {
        let (_, answer) = Self.respond("HEAD", "/healthz")
        #expect(answer.status == 200 && answer.body.isEmpty)
        #expect(Self.respond("HEAD", "/predict").answer.status == 405)
    }
}
