import FsmlCore
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Per connection, after HTTP decoding: deadlines, so that a client that sends half a request and
/// waits holds its connection (and file descriptor) for a bounded time; and JSON for the errors
/// the HTTP decoder answers itself.
///
/// - A request head must be complete within `headTimeout` of the connection opening or of the
///   previous response (which also bounds how long an idle keep-alive connection stays open).
/// - Its body must be complete within `bodyTimeout` of its head.
/// Past a deadline the connection closes, after a `408` for a request that stalled.
/// A malformed request (a bad chunk size, a negative or doubled Content-Length, headers too large)
/// is answered by Hummingbird with a bare `400`; this handler gives it a status that says what was
/// wrong (`431` for oversized headers) and a JSON body like every other error.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Phase {
        case waitingForHead
        case readingBody
        case handling
        case responding
    }

    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    private var phase = Phase.waitingForHead
    private var responses = 0
    private var deadline: Scheduled<Void>?
    private var parseError: HTTPParserError?
    /// The bare error head Hummingbird wrote, held until its end so that a body can go between.
    private var rewriting = false
    /// The response being written says `Connection: close` (a body refused unread): close after it.
    private var closeAfterResponse = false

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
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
        switch unwrapInboundIn(data) {
        case .head:
            phase = .readingBody
            arm(context, bodyTimeout)
        case .body:
            break
        case .end:
            phase = .handling
            disarm()
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let e = error as? HTTPParserError { parseError = e }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            phase = .responding
            disarm()
            closeAfterResponse = head.headerFields[.connection] == "close"
            // Every response of the server's own routes has a content type; one without is the
            // decoder's bare error.
            if head.status.code >= 400, head.headerFields[.contentType] == nil {
                rewriting = true
                let (status, message) = Self.describe(parseError, status: head.status)
                writeJSON(context, status: status, message: message, promise: promise)
                return
            }
        case .body:
            if rewriting {
                promise?.succeed()
                return
            }
        case .end:
            if rewriting {
                rewriting = false
                context.write(data, promise: promise)
                return
            }
            phase = .waitingForHead
            responses += 1
            if closeAfterResponse {
                context.writeAndFlush(data, promise: promise)
                context.close(promise: nil)
                return
            }
            arm(context, headTimeout)
        }
        context.write(data, promise: promise)
    }

    /// The status and message for a request the decoder refused.
    static func describe(_ error: HTTPParserError?, status: HTTPResponse.Status) -> (HTTPResponse.Status, String) {
        switch error {
        case .headerOverflow?: return (.requestHeaderFieldsTooLarge, "the request line or headers are too large")
        case .invalidContentLength?, .unexpectedContentLength?:
            return (.badRequest, "the Content-Length is not valid (negative, repeated, or beside Transfer-Encoding)")
        case .invalidChunkSize?: return (.badRequest, "a chunk size is not valid")
        case .invalidEOFState?: return (.badRequest, "the request ended early")
        case .unknown?: return (.badRequest, "the request is not valid HTTP/1.1")
        case let e?: return (.badRequest, "the request is not valid HTTP/1.1 (\(e))")
        case nil: return (status, "the request is not valid HTTP/1.1")
        }
    }

    private func writeJSON(
        _ context: ChannelHandlerContext, status: HTTPResponse.Status, message: String,
        promise: EventLoopPromise<Void>?
    ) {
        let body = "{\"error\":\(JSONText.quote(message)),\"status\":\(status.code)}\n"
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        let head = HTTPResponse(
            status: status,
            headerFields: [
                .contentType: "application/json", .contentLength: String(buffer.readableBytes), .connection: "close",
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(buffer)), promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ timeout: TimeAmount) {
        disarm()
        let loop = context.eventLoop
        deadline = loop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) { [self] in
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
        if (phase == .waitingForHead && responses == 0) || phase == .readingBody {
            let message =
                phase == .waitingForHead
                ? "no complete request within \(headTimeout.nanoseconds / 1_000_000) ms"
                : "the body did not arrive within \(bodyTimeout.nanoseconds / 1_000_000) ms"
            phase = .responding
            writeJSON(context, status: .requestTimeout, message: message, promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.close(promise: nil)
    }
}
