import Foundation
import FsmlCore

/// `GET /metrics` (and `/healthz`) for a process that is not a server itself (`fsml stream
/// --metrics-port`), on `HTTPServer` with the same connection limits as `fsml serve`: an idle or
/// half-sent client cannot hold it up.
public enum MetricsServer {
    /// Starts the server on a thread of its own; returns the bound port once it listens.
    public static func start(
        metrics: MetricsRegistry, host: String = "127.0.0.1", port: Int, limits: ServeHTTP.Limits = .init()
    ) throws -> Int {
        let outcome = Outcome()
        Task.detached {
            do {
                try await run(metrics: metrics, host: host, port: port, limits: limits) { outcome.finish(.success($0)) }
            } catch {
                outcome.finish(.failure(ServingError("metrics on \(host):\(port): \(error)")))
            }
        }
        return try outcome.wait().get()
    }

    /// The bound port or the failure, handed from the server's task to the caller.
    final class Outcome: @unchecked Sendable {
        private let ready = DispatchSemaphore(value: 0)
        private let lock = NSLockLite()
        private var result: Result<Int, ServingError>?

        func finish(_ r: Result<Int, ServingError>) {
            let first = lock.withLock {
                guard result == nil else { return false }
                result = r
                return true
            }
            if first { ready.signal() }
        }

        func wait() -> Result<Int, ServingError> {
            ready.wait()
            return lock.withLock { result! }
        }
    }

    static func run(
        metrics: MetricsRegistry, host: String, port: Int, limits: ServeHTTP.Limits,
        onRunning: @escaping @Sendable (Int) -> Void
    ) async throws {
        var routes = HTTPRoutes()
        ServeHTTP.addHealthAndMetrics(to: &routes, metrics: metrics)
        // No signal handlers: SIGTERM and SIGINT belong to the stream job, which stops cleanly on them.
        try await HTTPServer.run(
            routes: routes, metrics: metrics, host: host, port: port, limits: limits, handleSignals: false,
            onRunning: onRunning)
    }
}
