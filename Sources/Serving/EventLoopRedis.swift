import FsmlCore
import NIOCore
import NIOPosix
import OnlineStorage

/// The server's Redis reads, never blocking an event loop: one connection per event loop, commands
/// written as requests come and flushed once per pass of the loop (the requests of one pass share
/// one write), replies matched to requests in order on the same loop. A reply later than the
/// budget fails its request and closes the connection (a hung server's replies would otherwise pile
/// up); the next request connects again.
final class EventLoopRedis: LoopStoreReads, @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    typealias Values = Result<[[UInt8]?], any Error>

    let store: RedisOnlineStore
    let budget: TimeAmount
    /// Per entity kind, the bytes its Redis keys start with (`RedisOnlineStore.redisKey`).
    private let prefixes: [[UInt8]]
    private let lock = NSLockLite()
    private var clients: [ObjectIdentifier: RedisLoopClient] = [:]

    init(store: RedisOnlineStore, budgetMillis: Int) {
        self.store = store
        budget = .milliseconds(Int64(max(1, budgetMillis)))
        prefixes = store.keyPrefixes
    }

    /// The stored values of these entity states, in order (nil where there is none), given to
    /// `done` on `loop`.
    func read(_ keys: [(entity: Int, key: String)], on loop: any EventLoop, done: @escaping @Sendable (Values) -> Void)
    {
        guard loop.inEventLoop else {
            loop.execute { self.read(keys, on: loop, done: done) }
            return
        }
        let address = store.description
        let prefixes = prefixes
        let count = keys.count
        client(on: loop).send(
            encode: { buffer in
                RESP.encodeMGET(keys.lazy.map { (prefixes[$0.entity], $0.key) }, count: count, into: &buffer)
            },
            done: { reply in
                done(
                    reply.flatMap { reply in
                        guard case .array(let items) = reply, items.count == count else {
                            if case .error(let e) = reply { return .failure(Failure(description: "\(address): \(e)")) }
                            return .failure(Failure(description: "\(address): unexpected MGET reply"))
                        }
                        return .success(
                            items.map { item in
                                if case .bulk(let b) = item { return b }
                                return nil
                            })
                    })
            })
    }

    /// The loop's client (made the first time the loop reads).
    private func client(on loop: any EventLoop) -> RedisLoopClient {
        let id = ObjectIdentifier(loop)
        return lock.withLock {
            if let c = clients[id] { return c }
            let c = RedisLoopClient(loop: loop, endpoint: store.endpoint, address: store.description, budget: budget)
            clients[id] = c
            return c
        }
    }
}

/// One event loop's connection to Redis, used only on that loop: connected (and authenticated,
/// the database selected) when the first request comes or after the last connection closed;
/// requests that come while it connects wait for it.
final class RedisLoopClient: @unchecked Sendable {
    typealias Encode = (inout ByteBuffer) -> Void
    typealias Done = (Result<RESP.Reply, any Error>) -> Void

    private enum State {
        case idle
        case connecting([(Encode, Done)])
        case connected(RESPClientHandler)
    }

    let loop: any EventLoop
    let endpoint: RedisEndpoint
    let address: String
    let budget: TimeAmount
    private var state = State.idle

    init(loop: any EventLoop, endpoint: RedisEndpoint, address: String, budget: TimeAmount) {
        self.loop = loop
        self.endpoint = endpoint
        self.address = address
        self.budget = budget
    }

    /// Sends one command (written by `encode`); `done` gets its reply or why there is none.
    func send(encode: @escaping Encode, done: @escaping Done) {
        loop.preconditionInEventLoop()
        switch state {
        case .connected(let handler) where handler.isOpen:
            handler.send(encode, done: done)
        case .connected:
            // Its connection closed; the close callback has not run yet.
            state = .connecting([(encode, done)])
            connect()
        case .connecting(var waiting):
            state = .idle
            waiting.append((encode, done))
            state = .connecting(waiting)
        case .idle:
            state = .connecting([(encode, done)])
            connect()
        }
    }

    private func connect() {
        let (budget, address) = (self.budget, self.address)
        let handler = RESPClientHandler(budget: budget, address: address)
        let bound = NIOLoopBound(handler, eventLoop: loop)
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(max(budget, .seconds(1)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture(withResultOf: {
                    try channel.pipeline.syncOperations.addHandler(bound.value)
                })
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolatedUnsafeUnchecked()
            .whenComplete { [self] result in
                switch result {
                case .failure(let error): failWaiting(error)
                case .success(let channel): setUp(channel, handler)
                }
            }
    }

    /// AUTH and SELECT when the endpoint needs them, then the waiting requests.
    private func setUp(_ channel: any Channel, _ handler: RESPClientHandler) {
        channel.closeFuture.assumeIsolatedUnsafeUnchecked().whenComplete { [self] _ in
            if case .connected(let h) = state, h === handler { state = .idle }
        }
        var setup: [[[UInt8]]] = []
        // The password is sent, never logged.
        if let password = endpoint.password, !password.isEmpty {
            setup.append([Array("AUTH".utf8), Array(password.utf8)])
        }
        if endpoint.db != 0 { setup.append([Array("SELECT".utf8), Array(String(endpoint.db).utf8)]) }
        if endpoint.readOnly { setup.append([Array("READONLY".utf8)]) }
        var remaining = setup.count
        guard remaining > 0 else { return ready(handler) }
        var failed = false
        for command in setup {
            handler.send({ RESP.encode(command, into: &$0) }) { [self] reply in
                guard !failed else { return }
                switch reply {
                case .success(.error(let e)):
                    failed = true
                    channel.close(promise: nil)
                    failWaiting(EventLoopRedis.Failure(description: "redis setup: \(e)"))
                case .failure(let error):
                    failed = true
                    failWaiting(error)
                case .success:
                    remaining -= 1
                    if remaining == 0 { ready(handler) }
                }
            }
        }
    }

    private func ready(_ handler: RESPClientHandler) {
        guard case .connecting(let waiting) = state else { return }
        state = .connected(handler)
        for (encode, done) in waiting { handler.send(encode, done: done) }
    }

    private func failWaiting(_ error: any Error) {
        guard case .connecting(let waiting) = state else { return }
        state = .idle
        for (_, done) in waiting { done(.failure(error)) }
    }
}

/// Writes commands and matches replies to them, in order, on its connection's loop. One timer
/// serves every request's budget: it is set for the oldest request's deadline, and when it fires
/// either that request is late (failed, and the connection closed, which fails the rest) or it
/// was answered and the timer is set for the next one.
final class RESPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let deadline: NIODeadline
        let done: RedisLoopClient.Done
    }

    let budget: TimeAmount
    let address: String
    private var context: ChannelHandlerContext?
    private var pending = CircularBuffer<Pending>()
    /// Commands written during this pass of the loop, sent at its end in one write.
    private var outgoing: ByteBuffer?
    private var received: ByteBuffer?
    private var timer: Scheduled<Void>?
    private(set) var isOpen = true

    init(budget: TimeAmount, address: String) {
        self.budget = budget
        self.address = address
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func send(_ encode: RedisLoopClient.Encode, done: @escaping RedisLoopClient.Done) {
        guard isOpen, let context else {
            done(.failure(EventLoopRedis.Failure(description: "the connection to redis closed")))
            return
        }
        let deadline = NIODeadline.now() + budget
        pending.append(Pending(deadline: deadline, done: done))
        if timer == nil { arm(context, at: deadline) }
        if outgoing == nil {
            outgoing = context.channel.allocator.buffer(capacity: 512)
            // One write after this pass of the loop carries every command written during it.
            context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { [self] in
                guard let bytes = outgoing else { return }
                outgoing = nil
                context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
            }
        }
        encode(&outgoing!)
    }

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard let oldest = pending.first else { return }
            if oldest.deadline <= .now() {
                _ = pending.popFirst()
                let ms = budget.nanoseconds / 1_000_000
                oldest.done(.failure(EventLoopRedis.Failure(description: "\(address): no reply within \(ms) ms")))
                context.close(promise: nil)
            } else {
                arm(context, at: oldest.deadline)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        ReceivedBytes.append(&chunk, to: &received)
        do {
            var consumed = 0
            var replies: [RESP.Reply] = []
            try received!.withUnsafeReadableBytes { (p) throws(RESP.ProtocolError) in
                while let (reply, next) = try RESP.parse(p, from: consumed) {
                    replies.append(reply)
                    consumed = next
                }
            }
            received!.moveReaderIndex(forwardBy: consumed)
            ReceivedBytes.settle(&received)
            for reply in replies {
                guard let request = pending.popFirst() else {
                    throw RESP.ProtocolError(description: "a reply nobody asked for")
                }
                request.done(.success(reply))
            }
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(EventLoopRedis.Failure(description: "the connection to redis closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        isOpen = false
        outgoing = nil
        timer?.cancel()
        timer = nil
        while let request = pending.popFirst() { request.done(.failure(error)) }
    }
}
