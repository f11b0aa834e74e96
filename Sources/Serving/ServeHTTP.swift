import Foundation
import FsmlCore
import Hummingbird
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

    /// Reads the body, at most 64 KiB; more is a 413, never a crash.
    static func body(_ request: inout Request) async throws -> [UInt8]? {
        do {
            let buffer = try await request.collectBody(upTo: ServeRequests.maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            return nil
        } catch let e as HTTPError where e.status == .contentTooLarge {
            return nil
        }
    }

    public static func router(service: PredictionService, metrics: MetricsRegistry) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: Observe(metrics: metrics))
        router.post("/predict") { request, _ -> Response in
            var request = request
            guard let body = try await body(&request) else { return error(413, "the body is over 64 KiB") }
            return response(service.predict(body))
        }
        router.post("/rank") { request, _ -> Response in
            var request = request
            guard let body = try await body(&request) else { return error(413, "the body is over 64 KiB") }
            return response(service.rank(body))
        }
        router.get("/features/:entity/:id") { _, context -> Response in
            let entity = context.parameters.get("entity") ?? ""
            let id = context.parameters.get("id") ?? ""
            return response(service.features(entity: entity, id: id.removingPercentEncoding ?? id))
        }
        router.get("/healthz") { _, _ -> Response in response(.init(status: 200, body: "{\"alive\":true}")) }
        router.get("/readyz") { _, _ -> Response in response(service.ready()) }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: MetricsRegistry.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        // A known path with the wrong method is a 405, not a 404.
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch]
        for (path, allowed) in [
            ("/predict", HTTPRequest.Method.post), ("/rank", .post), ("/healthz", .get), ("/readyz", .get),
            ("/metrics", .get), ("/features/:entity/:id", .get),
        ] {
            for m in methods where m != allowed {
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

    /// Runs the server until SIGINT/SIGTERM; `onRunning` gets the bound port.
    public static func run(
        service: PredictionService, metrics: MetricsRegistry, host: String, port: Int,
        onRunning: @escaping @Sendable (Int) -> Void
    ) async throws {
        var logger = Logger(label: "fsml-serve")
        logger.logLevel = .warning
        let app = Application(
            router: router(service: service, metrics: metrics),
            configuration: .init(address: .hostname(host, port: port), serverName: "fsml"),
            onServerRunning: { channel in onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.runService()
    }
}
