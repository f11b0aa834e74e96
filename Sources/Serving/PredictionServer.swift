import FsmlCore
import ServiceLifecycle

/// `fsml serve`'s HTTP server as a service: /predict and the other routes of `ServeHTTP` until the
/// service group shuts down, then it drains (see `HTTPServer.run`).
public struct PredictionServer: Service {
    let service: PredictionService
    let metrics: MetricsRegistry
    let host: String
    let port: Int
    let limits: ServeHTTP.Limits
    let onRunning: @Sendable (Int) -> Void

    /// `onRunning` gets the bound port once the server listens.
    public init(
        service: PredictionService, metrics: MetricsRegistry, host: String, port: Int, limits: ServeHTTP.Limits,
        onRunning: @escaping @Sendable (Int) -> Void
    ) {
        self.service = service
        self.metrics = metrics
        self.host = host
        self.port = port
        self.limits = limits
        self.onRunning = onRunning
    }

    public func run() async throws {
        try await HTTPServer.run(
            routes: ServeHTTP.routes(service: service, metrics: metrics), metrics: metrics, host: host, port: port,
            limits: limits, handleSignals: false, onRunning: onRunning)
    }
}
