import Foundation
import FsmlCore

/// The HTTP face of the `PredictionService`: its routes on `HTTPServer`.
public enum ServeHTTP {
    static func answer(_ a: PredictionService.Answer) -> HTTPAnswer {
        var answer = HTTPAnswer(status: a.status, body: a.body)
        answer.body.append(10)
        return answer
    }

    /// `GET /healthz` (and `HEAD`), and `GET /metrics` with the process metrics refreshed: what
    /// every fsml process that listens answers.
    static func addHealthAndMetrics(to routes: inout HTTPRoutes, metrics: MetricsRegistry) {
        routes.add("GET", "/healthz") { _ in HTTPAnswer(status: 200, body: "{\"alive\":true}\n") }
        routes.add("GET", "/metrics") { _ in
            ProcessMetrics.update(metrics)
            return HTTPAnswer(status: 200, body: metrics.render(), contentType: MetricsRegistry.contentType)
        }
    }

    /// Whether a query string asks for an explanation: `explain=true` (or `explain=1`, or a bare
    /// `explain`).
    static func explainQuery(_ query: Substring?) -> Bool {
        guard let query else { return false }
        return query.split(separator: "&").contains { $0 == "explain" || $0 == "explain=true" || $0 == "explain=1" }
    }

    public static func routes(service: PredictionService, metrics: MetricsRegistry) -> HTTPRoutes {
        var routes = HTTPRoutes()
        // /predict and /rank wait on the store without blocking their event loop.
        routes.add(
            "POST", "/predict",
            later: { request, loop, done in
                service.predict(request.body, explain: explainQuery(request.query), on: loop, done: done)
            })
        routes.add(
            "POST", "/rank", later: { request, loop, done in service.rank(request.body, on: loop) { done(answer($0)) } }
        )
        routes.add("GET", "/features/:entity/:id") { request in
            let entity = String(request.parameters["entity"] ?? "")
            let id = String(request.parameters["id"] ?? "")
            return answer(service.features(entity: entity, id: id.removingPercentEncoding ?? id))
        }
        routes.add("GET", "/readyz") { _ in answer(service.ready()) }
        addHealthAndMetrics(to: &routes, metrics: metrics)
        return routes
    }

    /// What one server allows each client: deadlines for a request's head and body, and how many
    /// connections at once (the rest wait in the listen backlog).
    public struct Limits: Sendable {
        public var headTimeout: Double = 10
        public var bodyTimeout: Double = 10
        public var maxConnections: Int

        /// The connection limit leaves room, under the open-file limit, for the store's connections,
        /// the tracking store and the logs.
        public init(headTimeout: Double = 10, bodyTimeout: Double = 10, maxConnections: Int? = nil) {
            self.headTimeout = headTimeout
            self.bodyTimeout = bodyTimeout
            self.maxConnections = maxConnections ?? max(16, min(16_384, raiseOpenFileLimit() - 256))
        }
    }

    /// Runs the server until SIGINT/SIGTERM; `onRunning` gets the bound port.
    public static func run(
        service: PredictionService, metrics: MetricsRegistry, host: String, port: Int, limits: Limits = Limits(),
        onRunning: @escaping @Sendable (Int) -> Void
    ) async throws {
        try await HTTPServer.run(
            routes: routes(service: service, metrics: metrics), metrics: metrics, host: host, port: port,
            limits: limits, handleSignals: true, onRunning: onRunning)
    }
}
