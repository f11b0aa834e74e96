import FsmlCore

/// `fsml_serve_requests_total` by route and status and `fsml_serve_request_seconds` by route, each
/// series resolved once (the first time a route answers with a status) instead of by name and
/// label text on every request.
final class RequestMetrics: @unchecked Sendable {
    private let metrics: MetricsRegistry
    private let routes: HTTPRoutes
    private let lock = NSLockLite()
    private var handles: [Int: MetricsRegistry.Handle] = [:]

    init(routes: HTTPRoutes, metrics: MetricsRegistry) {
        self.routes = routes
        self.metrics = metrics
    }

    /// The series a connection answered last, kept by the connection: the next answer (most often
    /// of the same route and status) finds them without the shared lock and table.
    struct Recent {
        var countKey = -1
        var count: MetricsRegistry.Handle?
        var timeKey = -1
        var time: MetricsRegistry.Handle?
    }

    /// `seconds` is nil for an answer given before a request was read whole (a timeout).
    func record(route: Int, status: Int, seconds: Double?) {
        var recent = Recent()
        record(route: route, status: status, seconds: seconds, recent: &recent)
    }

    func record(route: Int, status: Int, seconds: Double?, recent: inout Recent) {
        let countKey = route << 10 | min(status, 1022)
        if recent.countKey != countKey {
            recent.count = handle(countKey) { name in
                metrics.counter(
                    "fsml_serve_requests_total", help: "Requests by route and status.",
                    labels: [("route", name), ("status", String(status))])
            }
            recent.countKey = countKey
        }
        guard let seconds else { return metrics.add(recent.count!) }
        let timeKey = route << 10 | 1023
        if recent.timeKey != timeKey {
            recent.time = handle(timeKey) { name in
                metrics.histogram("fsml_serve_request_seconds", help: Self.secondsHelp, labels: [("route", name)])
            }
            recent.timeKey = timeKey
        }
        metrics.add(recent.count!)
        metrics.observe(recent.time!, seconds)
    }

    private static let secondsHelp = "Time from the request's arrival to its response, in the server."

    private func handle(_ key: Int, make: (String) -> MetricsRegistry.Handle) -> MetricsRegistry.Handle {
        if let h = lock.withLock({ handles[key] }) { return h }
        let h = make(routes.name(of: key >> 10))
        lock.withLock { handles[key] = h }
        return h
    }
}
