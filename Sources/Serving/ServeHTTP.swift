import Foundation
import FsmlCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The HTTP face of the `PredictionService`, on Hummingbird 2.
public enum ServeHTTP {
    static let json: HTTPFields = [.contentType: "application/json"]

    static func response(_ a: PredictionService.Answer) -> Response {
        Response(
            status: HTTPResponse.Status(code: a.status), headers: json,
            body: ResponseBody(byteBuffer: ByteBuffer(string: a.body + "\n")))
    }

    static func error(_ status: Int, _ message: String) -> Response {
        response(PredictionService.Answer(status: status, body: RequestError(status, message).json))
    }

    /// Reads the body, at most 64 KiB. A declared length over that is refused before a byte of
    /// the body is read, a longer body as soon as it is; a body that ends early or is malformed is
    /// the client's mistake (400), never the server's.
    static func body(_ request: inout Request) async -> BodyRead {
        let tooLarge = error(413, "the body is over \(ServeRequests.maxBodyBytes / 1024) KiB")
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > ServeRequests.maxBodyBytes {
            // Answered before the body comes, and the connection closed, rather than read to its end.
            var refusal = tooLarge
            refusal.headers[.connection] = "close"
            return .refused(refusal)
        }
        do {
            let buffer = try await request.collectBody(upTo: ServeRequests.maxBodyBytes)
            return .body(Array(buffer.readableBytesView))
        } catch is NIOTooManyBytesError {
            return .refused(tooLarge)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            return .refused(tooLarge)
        } catch {
            return .refused(ServeHTTP.error(400, "the body ended early or is malformed"))
        }
    }

    /// `GET /healthz` (and `HEAD`), and `GET /metrics` with the process metrics refreshed: what
    /// every fsml process that listens answers.
    static func addHealthAndMetrics(to router: Router<BasicRequestContext>, metrics: MetricsRegistry) {
        router.get("/healthz") { _, _ -> Response in response(.init(status: 200, body: "{\"alive\":true}")) }
        router.head("/healthz") { _, _ -> Response in Response(status: .ok, headers: json) }
        router.get("/metrics") { _, _ -> Response in
            ProcessMetrics.update(metrics)
            return Response(
                status: .ok, headers: [.contentType: MetricsRegistry.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
    }

    /// A POST's body handed to `handle`, or the refusal of the body.
    static func posted(_ request: Request, _ handle: ([UInt8]) -> PredictionService.Answer) async -> Response {
        var request = request
        switch await body(&request) {
        case .body(let body): return response(handle(body))
        case .refused(let refusal): return refusal
        }
    }

    enum BodyRead {
        case body([UInt8])
        case refused(Response)
    }

    public static func router(service: PredictionService, metrics: MetricsRegistry) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: Observe(metrics: metrics))
        router.post("/predict") { request, _ -> Response in await posted(request, service.predict) }
        router.post("/rank") { request, _ -> Response in await posted(request, service.rank) }
        router.get("/features/:entity/:id") { _, context -> Response in
            let entity = context.parameters.get("entity") ?? ""
            let id = context.parameters.get("id") ?? ""
            return response(service.features(entity: entity, id: id.removingPercentEncoding ?? id))
        }
        router.get("/readyz") { _, _ -> Response in response(service.ready()) }
        addHealthAndMetrics(to: router, metrics: metrics)
        // A known path with the wrong method is a 405, not a 404.
        let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch]
        for (path, allowed) in [
            ("/predict", HTTPRequest.Method.post), ("/rank", .post), ("/healthz", .get), ("/readyz", .get),
            ("/metrics", .get), ("/features/:entity/:id", .get),
        ] {
            for m in methods where m != allowed && !(path == "/healthz" && m == .head) {
                router.on(RouterPath(path), method: m) { _, _ -> Response in
                    var r = error(405, "\(path) takes \(allowed.rawValue)")
                    r.headers[.allow] = allowed.rawValue
                    return r
                }
            }
        }
        return router
    }

    /// Counts requests by route and status, times them, and turns Hummingbird's own errors (an
    /// unknown route) into JSON.
    struct Observe: RouterMiddleware {
        typealias Context = BasicRequestContext
        let metrics: MetricsRegistry

        func handle(
            _ request: Request, context: Context, next: (Request, Context) async throws -> Response
        ) async throws -> Response {
            let begin = monotonicNanos()
            var response: Response
            do {
                response = try await next(request, context)
            } catch let e as HTTPError {
                response = ServeHTTP.error(
                    e.status.code, e.status == .notFound ? "no route \(request.uri.path)" : e.body ?? "\(e.status)")
            } catch {
                response = ServeHTTP.error(500, "\(error)")
            }
            let route = context.endpointPath ?? "unknown"
            metrics.add(
                "fsml_serve_requests_total", help: "Requests by route and status.",
                labels: [("route", route), ("status", String(response.status.code))])
            metrics.observe(
                "fsml_serve_request_seconds", Double(monotonicNanos() - begin) / 1e9,
                help: "Time from the request's arrival to its response, in the server.", labels: [("route", route)])
            return response
        }
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

    /// An HTTP/1.1 application whose connections are guarded by `limits`.
    static func application<Responder: HTTPResponder>(
        _ responder: Responder, host: String, port: Int, limits: Limits, logger: Logger,
        onRunning: @escaping @Sendable (Int) -> Void
    ) -> Application<Responder> where Responder.Context == BasicRequestContext {
        let head = TimeAmount.nanoseconds(Int64(limits.headTimeout * 1e9))
        let body = TimeAmount.nanoseconds(Int64(limits.bodyTimeout * 1e9))
        return Application(
            responder: responder,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [ConnectionGuard(headTimeout: head, bodyTimeout: body)])),
            configuration: .init(
                address: .hostname(host, port: port), serverName: "fsml",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// Runs the server until SIGINT/SIGTERM; `onRunning` gets the bound port.
    public static func run(
        service: PredictionService, metrics: MetricsRegistry, host: String, port: Int, limits: Limits = Limits(),
        onRunning: @escaping @Sendable (Int) -> Void
    ) async throws {
        var logger = Logger(label: "fsml-serve")
        logger.logLevel = .warning
        let app = application(
            router(service: service, metrics: metrics).buildResponder(), host: host, port: port, limits: limits,
            logger: logger, onRunning: onRunning)
        try await app.runService()
    }
}
