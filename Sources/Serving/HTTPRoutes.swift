import FsmlCore
import NIOCore

/// One HTTP response as a route gives it: status, JSON (or another type) body, extra headers.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)]
    /// Close the connection after this response.
    public var close: Bool

    public init(
        status: Int, body: String, contentType: String = "application/json", headers: [(String, String)] = [],
        close: Bool = false
    ) {
        self.status = status
        self.body = Array(body.utf8)
        self.contentType = contentType
        self.headers = headers
        self.close = close
    }

    /// An answer whose body is bytes already.
    init(status: Int, bytes: [UInt8], contentType: String = "application/json") {
        self.status = status
        body = bytes
        self.contentType = contentType
        headers = []
        close = false
    }

    /// A JSON error body: `{"error": message, "status": status}`.
    public static func error(_ status: Int, _ message: String, close: Bool = false) -> HTTPAnswer {
        HTTPAnswer(status: status, body: RequestError(status, message).json + "\n", close: close)
    }
}

/// What a route's handler sees of a request.
public struct HTTPRequestInfo {
    public var method: String
    public var path: Substring
    public var query: Substring?
    public var body: [UInt8]
    /// The values of the pattern's `:name` segments, still percent-encoded.
    public var parameters: [String: Substring] = [:]
}

/// The server's routes: a method and a path pattern (`/features/:entity/:id`) each. Matching is a
/// walk over a handful of patterns, synchronous on the connection's event loop, as is every
/// handler: no task is created per request. A known path with the wrong method is a 405 naming the
/// allowed one; an unknown path is a 404; both are JSON.
public struct HTTPRoutes: Sendable {
    /// Where a later answer goes; called once, on the request's event loop.
    public typealias Completion = @Sendable (HTTPAnswer) -> Void

    /// A handler answers at once, or later on the request's event loop (one that waits on I/O).
    enum Handler: Sendable {
        case now(@Sendable (HTTPRequestInfo) -> HTTPAnswer)
        case later(@Sendable (HTTPRequestInfo, any EventLoop, @escaping Completion) -> Void)
    }

    struct Route: Sendable {
        let method: String
        let pattern: Int
        let segments: [Substring]
        let handler: Handler
    }

    private var routes: [Route] = []
    /// The route each method and parameterless path resolves to, where it is a route without
    /// parameters: found once, as `respond`'s walk would find it, so that a request to one is not
    /// split into segments and matched against every pattern.
    private var exact: [(method: String, path: String, route: Int)] = []
    /// The distinct patterns, in the order added; index `patterns.count` stands for "no route".
    public private(set) var patterns: [String] = []

    public init() {}

    public mutating func add(
        _ method: String, _ pattern: String, _ handle: @escaping @Sendable (HTTPRequestInfo) -> HTTPAnswer
    ) {
        add(method, pattern, .now(handle))
    }

    /// A route whose answer comes later: the handler calls its completion once, on the event
    /// loop it is given.
    public mutating func add(
        _ method: String, _ pattern: String,
        later handle: @escaping @Sendable (HTTPRequestInfo, any EventLoop, @escaping Completion) -> Void
    ) {
        add(method, pattern, .later(handle))
    }

    private mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let index = patterns.firstIndex(of: pattern) ?? patterns.count
        if index == patterns.count { patterns.append(pattern) }
        routes.append(Route(method: method, pattern: index, segments: Self.split(pattern), handler: handler))
        exact = Self.exactRoutes(routes, patterns: patterns)
    }

    private static func exactRoutes(
        _ routes: [Route], patterns: [String]
    ) -> [(method: String, path: String, route: Int)] {
        let methods = Set(routes.map(\.method)).union(["HEAD"]).sorted()
        var out: [(method: String, path: String, route: Int)] = []
        for path in patterns where !path.contains(":") {
            let segments = split(path)[...]
            for method in methods {
                // The first route `respond` would answer with, when it takes no parameters.
                guard
                    let i = routes.firstIndex(where: {
                        match($0.segments, segments) != nil
                            && ($0.method == method || (method == "HEAD" && $0.method == "GET"))
                    }), match(routes[i].segments, segments)!.isEmpty
                else { continue }
                out.append((method, path, i))
            }
        }
        return out
    }

    /// A pattern's text, "unknown" for no route (the metrics' `route` label).
    public func name(of route: Int) -> String { route < patterns.count ? patterns[route] : "unknown" }

    static func split(_ path: some StringProtocol) -> [Substring] {
        String(path).split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }
    }

    /// The answer and the index of the route's pattern (`patterns.count` when none matched); nil
    /// for a handler that answers later, which is given `loop` and calls `later` with its answer.
    public func respond(
        method: String, uri: String, body: [UInt8], on loop: any EventLoop, later: @escaping Completion
    ) -> (route: Int, answer: HTTPAnswer?) {
        let q = uri.firstIndex(of: "?")
        let path = uri[..<(q ?? uri.endIndex)]
        let query = q.map { uri[uri.index(after: $0)...] }
        for e in exact where e.method == method && e.path == path {
            let request = HTTPRequestInfo(method: method, path: path, query: query, body: body)
            return run(routes[e.route], request, on: loop, later: later)
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var allowed: [String] = []
        var matched: Int?
        for route in routes {
            guard let parameters = Self.match(route.segments, segments) else { continue }
            matched = matched ?? route.pattern
            // HEAD is GET without the body.
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                var request = HTTPRequestInfo(method: method, path: path, query: query, body: body)
                request.parameters = parameters
                return run(route, request, on: loop, later: later)
            }
            allowed.append(route.method)
        }
        guard let matched else { return (patterns.count, .error(404, "no route \(path)")) }
        var answer = HTTPAnswer.error(405, "\(patterns[matched]) takes \(allowed.joined(separator: ", "))")
        answer.headers.append(("Allow", allowed.joined(separator: ", ")))
        return (matched, answer)
    }

    private func run(
        _ route: Route, _ request: HTTPRequestInfo, on loop: any EventLoop, later: @escaping Completion
    ) -> (route: Int, answer: HTTPAnswer?) {
        switch route.handler {
        case .now(let handle):
            var answer = handle(request)
            if request.method == "HEAD" { answer.body = [] }
            return (route.pattern, answer)
        case .later(let handle):
            guard request.method == "HEAD" else {
                handle(request, loop, later)
                return (route.pattern, nil)
            }
            handle(request, loop) { answer in
                var answer = answer
                answer.body = []
                later(answer)
            }
            return (route.pattern, nil)
        }
    }

    private static func match(_ pattern: [Substring], _ path: ArraySlice<Substring>) -> [String: Substring]? {
        guard pattern.count == path.count else { return nil }
        var parameters: [String: Substring] = [:]
        for (p, s) in zip(pattern, path) {
            if p.first == ":" {
                guard !s.isEmpty else { return nil }
                parameters[String(p.dropFirst())] = s
            } else if p != s {
                return nil
            }
        }
        return parameters
    }
}
