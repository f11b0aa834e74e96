import FsmlCore
import NIOCore
import NIOHTTP1

/// One client connection of `HTTPServer`: collects a request (at most `maxBody` bytes of body),
/// answers it from the routes on the connection's event loop, at once or, for a handler that waits
/// on the store, when its answer comes (what the client sends meanwhile waits, up to a bound), and
/// guards the connection against clients that misbehave. A client that sends a head too slowly, or a body
/// too slowly, gets a 408 and is closed (an idle keep-alive connection is just closed); a request
/// the HTTP decoder refuses gets a JSON 4xx saying why, never a bare 400 or a 5xx; a body declared
/// over the limit is refused before it is sent.
final class HTTPServerConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        case waitingForHead
        case readingBody
        /// A handler answers later (it waits on the store); what the client sends meanwhile waits.
        case handling
        /// A response that closes the connection was written; whatever else comes is dropped.
        case closing
    }

    let routes: HTTPRoutes
    let metrics: RequestMetrics
    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let maxBody: Int
    private var phase = Phase.waitingForHead
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var began: UInt64 = 0
    private var responses = 0
    private var deadline: Scheduled<Void>?
    private var date = HTTPDate()
    /// Request parts that came while a handler was answering, in order.
    private var queued: [HTTPServerRequestPart] = []
    /// A decoder error that came while a handler was answering: told after that answer.
    private var deferredError: HTTPParserError?
    /// The client finished sending while a handler was answering: close once it is answered.
    private var inputEnded = false

    static let maxQueuedParts = 4_096

    init(routes: HTTPRoutes, metrics: RequestMetrics, limits: ServeHTTP.Limits, maxBody: Int) {
        self.routes = routes
        self.metrics = metrics
        headTimeout = .nanoseconds(Int64(limits.headTimeout * 1e9))
        bodyTimeout = .nanoseconds(Int64(limits.bodyTimeout * 1e9))
        self.maxBody = maxBody
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if phase == .handling {
            // Pipelined requests wait for the answer in hand; a client that piles up more is cut off.
            guard queued.count < Self.maxQueuedParts else {
                phase = .closing
                context.close(promise: nil)
                return
            }
            queued.append(part)
            return
        }
        read(context, part)
    }

    private func read(_ context: ChannelHandlerContext, _ part: HTTPServerRequestPart) {
        switch part {
        case .head(let h):
            guard phase == .waitingForHead else { return }
            began = monotonicNanos()
            if let declared = h.headers.first(name: "content-length").flatMap({ Int($0) }), declared > maxBody {
                // Answered before the body comes, and the connection closed, rather than read to its end.
                respond(context, route: routes.patterns.count, answer: tooLarge, keepAlive: false)
                return
            }
            head = h
            body = nil
            phase = .readingBody
            // A client that waits to be told to send its body (curl does, over 1 KiB) is told now.
            if h.headers.first(name: "expect")?.lowercased() == "100-continue" {
                let proceed = HTTPResponseHead(version: h.version, status: .continue)
                context.writeAndFlush(wrapOutboundOut(.head(proceed)), promise: nil)
            }
            arm(context, bodyTimeout)
        case .body(var chunk):
            guard phase == .readingBody else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > maxBody {
                respond(context, route: routes.patterns.count, answer: tooLarge, keepAlive: false)
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard phase == .readingBody, let h = head else { return }
            disarm()
            let bytes = body.map { Array($0.readableBytesView) } ?? []
            head = nil
            body = nil
            let (route, reply) = routes.respond(
                method: h.method.rawValue, uri: h.uri, body: bytes, on: context.eventLoop)
            switch reply {
            case .now(let answer):
                respond(context, route: route, answer: answer, keepAlive: h.isKeepAlive && !answer.close)
            case .later(let future):
                phase = .handling
                future.assumeIsolatedUnsafeUnchecked().whenComplete { [self] result in
                    let answer: HTTPAnswer
                    switch result {
                    case .success(let a): answer = a
                    case .failure(let error): answer = .error(500, "\(error)")
                    }
                    guard phase == .handling else { return }
                    respond(context, route: route, answer: answer, keepAlive: h.isKeepAlive && !answer.close)
                    context.flush()
                    resume(context)
                }
            }
        }
    }

    /// After a later answer: the parts that waited, then a decoder error that waited.
    private func resume(_ context: ChannelHandlerContext) {
        while phase != .handling && phase != .closing && !queued.isEmpty {
            read(context, queued.removeFirst())
        }
        if phase != .handling, let e = deferredError {
            deferredError = nil
            queued.removeAll()
            fail(context, e)
        }
        if inputEnded && phase == .waitingForHead && queued.isEmpty {
            phase = .closing
            context.close(promise: nil)
        }
        context.flush()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard phase != .closing else { return }
        if let e = error as? HTTPParserError {
            if phase == .handling {
                deferredError = e
            } else {
                fail(context, e)
            }
        } else {
            phase = .closing
            context.close(promise: nil)
        }
    }

    private func fail(_ context: ChannelHandlerContext, _ error: HTTPParserError) {
        let (status, message) = Self.describe(error)
        respond(context, route: routes.patterns.count, answer: .error(status, message), keepAlive: false)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client finished sending: once nothing is owed to it, the connection ends.
        if case ChannelEvent.inputClosed = event {
            if phase == .waitingForHead && queued.isEmpty {
                phase = .closing
                context.close(promise: nil)
            } else if phase == .handling {
                inputEnded = true
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private var tooLarge: HTTPAnswer { .error(413, "the body is over \(maxBody / 1024) KiB", close: true) }

    /// Writes the answer (flushed at the end of the read, or now when the connection closes),
    /// counts it, and arms the deadline for the next request.
    private func respond(_ context: ChannelHandlerContext, route: Int, answer: HTTPAnswer, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + answer.headers.count)
        headers.add(name: "Content-Type", value: answer.contentType)
        headers.add(name: "Content-Length", value: String(answer.body.count))
        headers.add(name: "Date", value: date.now())
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
        let status = HTTPResponseStatus(statusCode: answer.status)
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !answer.body.isEmpty {
            var buffer = context.channel.allocator.buffer(capacity: answer.body.count)
            buffer.writeBytes(answer.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        responses += 1
        metrics.record(
            route: route, status: answer.status, seconds: began == 0 ? nil : Double(monotonicNanos() - began) / 1e9)
        began = 0
        if keepAlive {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            phase = .waitingForHead
            arm(context, headTimeout)
        } else {
            phase = .closing
            disarm()
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolatedUnsafeUnchecked().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    /// The status and message for a request the decoder refused.
    static func describe(_ error: HTTPParserError) -> (Int, String) {
        switch error {
        case .headerOverflow: return (431, "the request line or headers are too large")
        case .invalidContentLength, .unexpectedContentLength:
            return (400, "the Content-Length is not valid (negative, repeated, or beside Transfer-Encoding)")
        case .invalidChunkSize: return (400, "a chunk size is not valid")
        case .invalidEOFState: return (400, "the request ended early")
        case .unknown: return (400, "the request is not valid HTTP/1.1")
        default: return (400, "the request is not valid HTTP/1.1 (\(error))")
        }
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        disarm()
        deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) { [self] in
            deadline = nil
            expired(context)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }

    /// A connection idle after a response just closes (keep-alive ended); a request that stalled
    /// gets its 408 first.
    private func expired(_ context: ChannelHandlerContext) {
        guard phase != .closing else { return }
        if (phase == .waitingForHead && responses == 0) || phase == .readingBody {
            let message =
                phase == .waitingForHead
                ? "no complete request within \(headTimeout.nanoseconds / 1_000_000) ms"
                : "the body did not arrive within \(bodyTimeout.nanoseconds / 1_000_000) ms"
            began = 0
            respond(context, route: routes.patterns.count, answer: .error(408, message), keepAlive: false)
        } else {
            phase = .closing
            context.close(promise: nil)
        }
    }
}
