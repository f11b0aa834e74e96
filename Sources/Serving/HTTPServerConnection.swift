import FsmlCore
import NIOCore

/// One client connection of `HTTPServer`: reads requests from the received bytes
/// (`HTTPRequestParser`, at most `maxBody` bytes of body), answers each from the routes on the
/// connection's event loop, at once or, for a handler that waits on the store, when its answer
/// comes (what the client sends meanwhile waits in the buffer, up to a bound), and guards the
/// connection against clients that misbehave. A client that sends a head too slowly, or a body too
/// slowly, gets a 408 and is closed (an idle keep-alive connection is just closed); a request the
/// parser refuses gets a JSON 4xx saying why, never a bare 400 or a 5xx; a body declared over the
/// limit is refused before it is sent.
///
/// Per request it allocates the body and the response buffer and schedules nothing: the answers
/// of one read are flushed together at its end, and one timer per connection serves every
/// deadline (moving a deadline later only moves a number; the timer, when it fires early, sets
/// itself again for the deadline then current).
final class HTTPServerConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

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
    /// The server is stopping: the request in flight is the last one answered.
    private var quiescing = false
    private var parser: HTTPRequestParser
    /// Received bytes not parsed yet (the rest of a request, or requests sent ahead).
    private var received: ByteBuffer?
    private var head: HTTPRequestHead?
    private var began: UInt64 = 0
    private var responses = 0
    private var date = HTTPDate()
    private var recentMetrics = RequestMetrics.Recent()
    /// Responses written since the last flush.
    private var unflushed = false
    /// The client finished sending while a handler was answering: finish once it is answered.
    private var inputEnded = false
    /// When the current phase times out (`distantFuture`: it does not).
    private var deadline = NIODeadline.distantFuture
    private var timer: Scheduled<Void>?
    private var timerAt = NIODeadline.distantFuture

    /// The most bytes a client may send ahead while an answer is pending.
    static let maxHeldBytes = 1 << 20

    init(routes: HTTPRoutes, metrics: RequestMetrics, limits: ServeHTTP.Limits, maxBody: Int) {
        self.routes = routes
        self.metrics = metrics
        headTimeout = .nanoseconds(Int64(limits.headTimeout * 1e9))
        bodyTimeout = .nanoseconds(Int64(limits.bodyTimeout * 1e9))
        self.maxBody = maxBody
        parser = HTTPRequestParser(maxBody: maxBody)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { stopTimer() }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headTimeout)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closing else { return }
        var chunk = unwrapInboundIn(data)
        ReceivedBytes.append(&chunk, to: &received)
        if phase == .handling {
            // Pipelined requests wait for the answer in hand; a client that piles up more is cut off.
            if received!.readableBytes > Self.maxHeldBytes { close(context) }
            return
        }
        parse(context)
    }

    /// Reads and answers the requests in the received bytes, until one is incomplete or waits.
    private func parse(_ context: ChannelHandlerContext) {
        while phase == .waitingForHead || phase == .readingBody, received != nil {
            let step: HTTPRequestParser.Step?
            do { step = try parser.next(&received!) } catch {
                refuse(context, error)
                return
            }
            guard let step else { break }
            switch step {
            case .head(let h):
                let now = NIODeadline.now()
                began = now.uptimeNanoseconds
                head = h
                phase = .readingBody
                // A client that waits to be told to send its body (curl does, over 1 KiB) is told now.
                if h.expectContinue {
                    context.writeAndFlush(
                        wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
                }
                arm(context, bodyTimeout, now: now)
            case .request(let body):
                dispatch(context, head!, body: body)
            }
        }
        ReceivedBytes.settle(&received)
        if inputEnded && phase != .handling { finishInput(context) }
    }

    private func dispatch(_ context: ChannelHandlerContext, _ h: HTTPRequestHead, body: [UInt8]) {
        disarm()
        head = nil
        let keepAlive = h.keepAlive
        let minor = h.minorVersion
        let responder = Responder(connection: self, context: context)
        dispatching = true
        let (route, answer) = routes.respond(method: h.method, uri: h.uri, body: body, on: context.eventLoop) {
            answer in
            responder.later(answer, keepAlive: keepAlive, minor: minor)
        }
        dispatching = false
        if let answer = answer ?? early {
            early = nil
            respond(context, route: route, answer: answer, keepAlive: keepAlive && !answer.close, minor: minor)
        } else {
            phase = .handling
            pendingRoute = route
        }
    }

    /// The route of the request a handler answers later.
    private var pendingRoute = 0
    /// Inside `routes.respond`: a "later" answer that comes before it returns is kept in `early`.
    private var dispatching = false
    private var early: HTTPAnswer?

    /// Hands a later answer back to its connection, on the connection's event loop (where the
    /// routes complete it).
    private struct Responder: @unchecked Sendable {
        let connection: HTTPServerConnection
        let context: ChannelHandlerContext

        func later(_ answer: HTTPAnswer, keepAlive: Bool, minor: Int) {
            context.eventLoop.preconditionInEventLoop()
            connection.answered(context, answer, keepAlive: keepAlive, minor: minor)
        }
    }

    private func answered(_ context: ChannelHandlerContext, _ answer: HTTPAnswer, keepAlive: Bool, minor: Int) {
        if dispatching {
            early = answer
            return
        }
        guard phase == .handling else { return }
        respond(context, route: pendingRoute, answer: answer, keepAlive: keepAlive && !answer.close, minor: minor)
        if phase != .closing {
            parse(context)
            flush(context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context)
        context.fireChannelReadComplete()
    }

    private func flush(_ context: ChannelHandlerContext) {
        guard unflushed else { return }
        unflushed = false
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard phase != .closing else { return }
        close(context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is HTTPServer.Quiesce {
            quiescing = true
            // Between requests: nothing is owed, so the connection ends now.
            if phase == .waitingForHead && (received?.readableBytes ?? 0) == 0 {
                closeAfterWrites(context, context.channel.allocator.buffer(capacity: 0))
            }
            return
        }
        // The client finished sending: once nothing is owed to it, the connection ends.
        if case ChannelEvent.inputClosed = event, phase != .closing {
            inputEnded = true
            if phase != .handling { finishInput(context) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// After the client's last byte, with no answer pending: a request cut short is told so; then
    /// the connection ends.
    private func finishInput(_ context: ChannelHandlerContext) {
        guard phase != .closing else { return }
        do {
            try parser.inputEnded(received ?? ByteBuffer())
            closeAfterWrites(context, context.channel.allocator.buffer(capacity: 0))
        } catch {
            refuse(context, error)
        }
    }

    /// A request the parser refused: its status and why, and the connection closed.
    private func refuse(_ context: ChannelHandlerContext, _ error: HTTPRequestError) {
        received = nil
        respond(
            context, route: routes.patterns.count, answer: .error(error.status, error.message), keepAlive: false,
            minor: 1)
    }

    private func close(_ context: ChannelHandlerContext) {
        phase = .closing
        received = nil
        stopTimer()
        context.close(promise: nil)
    }

    /// Writes the answer (flushed at the end of the read, or now when the connection closes),
    /// counts it, and arms the deadline for the next request.
    private func respond(
        _ context: ChannelHandlerContext, route: Int, answer: HTTPAnswer, keepAlive: Bool, minor: Int
    ) {
        var buffer = context.channel.allocator.buffer(capacity: 192 + answer.body.count)
        let keepAlive = keepAlive && !quiescing
        HTTPResponseWriter.write(answer, keepAlive: keepAlive, minor: minor, date: date.now(), into: &buffer)
        responses += 1
        let now = NIODeadline.now()
        metrics.record(
            route: route, status: answer.status,
            seconds: began == 0 ? nil : Double(now.uptimeNanoseconds &- began) / 1e9, recent: &recentMetrics)
        began = 0
        if keepAlive {
            context.write(wrapOutboundOut(buffer), promise: nil)
            unflushed = true
            phase = .waitingForHead
            arm(context, headTimeout, now: now)
        } else {
            closeAfterWrites(context, buffer)
        }
    }

    /// Writes `last` after what is written already and closes once all of it has gone out: closing
    /// at once would drop an answer the socket could not take in one write.
    private func closeAfterWrites(_ context: ChannelHandlerContext, _ last: ByteBuffer) {
        phase = .closing
        received = nil
        stopTimer()
        unflushed = false
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(last), promise: written)
        written.futureResult.assumeIsolatedUnsafeUnchecked().whenComplete { _ in context.close(promise: nil) }
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount, now: NIODeadline = .now()) {
        deadline = now + timeout
        // A timer that fires before this deadline sets itself again for it.
        if timer != nil && timerAt <= deadline { return }
        timer?.cancel()
        schedule(context, at: deadline)
    }

    private func schedule(_ context: ChannelHandlerContext, at when: NIODeadline) {
        timerAt = when
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: when) { [self] in
            timer = nil
            guard deadline != .distantFuture else { return }
            if NIODeadline.now() < deadline {
                schedule(context, at: deadline)
            } else {
                deadline = .distantFuture
                expired(context)
            }
        }
    }

    private func disarm() { deadline = .distantFuture }

    private func stopTimer() {
        deadline = .distantFuture
        timer?.cancel()
        timer = nil
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
            received = nil
            respond(context, route: routes.patterns.count, answer: .error(408, message), keepAlive: false, minor: 1)
        } else {
            close(context)
        }
    }
}
