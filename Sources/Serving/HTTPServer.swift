import Foundation
import FsmlCore
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// fsml's HTTP/1.1 server, straight on SwiftNIO: each request is parsed, answered and written on
/// its connection's event loop, without a task, an async sequence or a thread hop per request.
/// (A framework route on Swift concurrency cost 37–65 µs of CPU per request on loopback before any
/// work of ours, more than the whole budget of an in-process /predict.)
public enum HTTPServer {
    /// Serves `routes` until SIGINT/SIGTERM (when `handleSignals`), a graceful shutdown of the
    /// service group it runs in, or until the calling task is cancelled; `onRunning` gets the bound
    /// port once it listens. Stopping on a signal or a graceful shutdown drains: the server stops
    /// accepting, idle connections close, a request in flight is answered (with `Connection:
    /// close`), and the call returns once every connection has closed (a stalled client within its
    /// request timeout).
    public static func run(
        routes: HTTPRoutes, metrics: MetricsRegistry, host: String, port: Int, limits: ServeHTTP.Limits,
        maxBody: Int = ServeRequests.maxBodyBytes, handleSignals: Bool,
        onRunning: @escaping @Sendable (Int) -> Void
    ) async throws {
        let maxConnections = limits.maxConnections
        let requestMetrics = RequestMetrics(routes: routes, metrics: metrics)
        let live = LiveConnections()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture(withResultOf: {
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptLimiter(maxConnections: maxConnections, live: live))
                })
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture(withResultOf: {
                    // The connection reads HTTP from the bytes itself (`HTTPRequestParser`).
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPServerConnection(routes: routes, metrics: requestMetrics, limits: limits, maxBody: maxBody))
                })
            }
            .bind(host: host, port: port).get()
        onRunning(channel.localAddress?.port ?? port)
        var signals: [any DispatchSourceSignal] = []
        if handleSignals {
            for s in [SIGINT, SIGTERM] {
                signal(s, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: s)
                source.setEventHandler { channel.close(promise: nil) }
                source.resume()
                signals.append(source)
            }
        }
        defer { for s in signals { s.cancel() } }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        if !Task.isCancelled { try await live.drain() }
    }

    /// Told to each open connection once the server stops accepting: finish what is in flight, then close.
    struct Quiesce {}
}

/// The server's open connections, so that a stopping server can ask each to finish and wait for it.
final class LiveConnections: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    /// Asks every open connection to finish and close, and waits until they have.
    func drain() async throws {
        let open = channels.withLock { Array($0.values) }
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(HTTPServer.Quiesce()) }
        for channel in open { try? await channel.closeFuture.get() }
    }
}

/// Accepts at most `maxConnections` clients at once; the others wait in the listen backlog until
/// one closes (an idle or half-sent client is closed at its deadline, so the wait is bounded).
final class AcceptLimiter: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    let maxConnections: Int
    let live: LiveConnections
    private var open = 0
    private var readPending = false

    init(maxConnections: Int, live: LiveConnections) {
        self.maxConnections = maxConnections
        self.live = live
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        live.add(child)
        open += 1
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        child.closeFuture.whenComplete { _ in
            loop.execute {
                let (limiter, context) = bound.value
                limiter.closed(context)
            }
        }
        context.fireChannelRead(data)
    }

    private func closed(_ context: ChannelHandlerContext) {
        open -= 1
        if readPending && open < maxConnections {
            readPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if open < maxConnections {
            context.read()
        } else {
            readPending = true
        }
    }
}
