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

    @Test func patternsMatchWithTheirParametersAndTheQueryApart() {
        let (route, answer) = Self.routes.respond(method: "GET", uri: "/features/user/u%201?x=1", body: [])
        #expect(Self.routes.name(of: route) == "/features/:entity/:id")
        #expect(answer.status == 200 && Self.text(answer) == "user|u%201|x=1")
        let posted = Self.routes.respond(method: "POST", uri: "/predict", body: Array("{}".utf8))
        #expect(Self.routes.name(of: posted.route) == "/predict" && Self.text(posted.answer) == "{}")
    }

    @Test func aKnownPathWithTheWrongMethodIsA405NamingTheAllowedOne() {
        let (route, answer) = Self.routes.respond(method: "GET", uri: "/predict", body: [])
        #expect(answer.status == 405)
        #expect(answer.headers.contains { $0.0 == "Allow" && $0.1 == "POST" })
        #expect(Self.text(answer).contains("/predict takes POST"))
        #expect(Self.routes.name(of: route) == "/predict")
    }

    @Test func unknownPathsAndMissingParametersAre404s() {
        for uri in ["/nope", "/features/user", "/features/user/", "/features//u1", "/healthz/x", "", "/"] {
            let (route, answer) = Self.routes.respond(method: "GET", uri: uri, body: [])
            #expect(answer.status == 404, "\(uri)")
            #expect(Self.routes.name(of: route) == "unknown", "\(uri)")
            #expect(Self.text(answer).contains("\"error\""), "\(uri)")
        }
    }

    @Test func headIsGetWithoutTheBody() {
        let (_, answer) = Self.routes.respond(method: "HEAD", uri: "/healthz", body: [])
        #expect(answer.status == 200 && answer.body.isEmpty)
        #expect(Self.routes.respond(method: "HEAD", uri: "/predict", body: []).answer.status == 405)
    }
}
