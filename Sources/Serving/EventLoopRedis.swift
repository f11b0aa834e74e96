import FsmlCore
import NIOCore
import NIOPosix
import OnlineStorage

/// The server's Redis reads, never blocking an event loop: one connection per event loop, commands
/// written as requests come and flushed once per pass of the loop (the requests of one pass share
/// one write), replies matched to requests in order on the same loop. A reply later than the
/// budget fails its request and closes the connection (a hung server's replies would otherwise pile
/// up); the next request connects again.
final class EventLoopRedis: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let store: RedisOnlineStore
    let budget: TimeAmount
    private let lock = NSLockLite()
    private var channels: [ObjectIdentifier: EventLoopFuture<any Channel>] = [:]

    init(store: RedisOnlineStore, budgetMillis: Int) {
        self.store = store
        budget = .milliseconds(Int64(max(1, budgetMillis)))
    }

    /// The stored values of these entity states, in order; nil where there is none.
    func read(_ keys: [(entity: Int, key: String)], on loop: any EventLoop) -> EventLoopFuture<[[UInt8]?]> {
        var command: [UInt8] = []
        RESP.encode([Array("MGET".utf8)] + keys.map { store.redisKey($0.entity, $0.key) }, into: &command)
        let address = store.description
        return send(command, on: loop).flatMapThrowing { reply in
            guard case .array(let items) = reply, items.count == keys.count else {
                if case .error(let e) = reply { throw Failure(description: "\(address): \(e)") }
                throw Failure(description: "\(address): unexpected MGET reply")
            }
            return items.map { item in
                if case .bulk(let b) = item { return b }
                return nil
            }
        }
    }

    private func send(_ command: [UInt8], on loop: any EventLoop) -> EventLoopFuture<RESP.Reply> {
        let slot = RESPClientHandler.Slot(promise: loop.makePromise(of: RESP.Reply.self))
        let budget = self.budget
        let address = store.description
        connection(on: loop).whenComplete { result in
            switch result {
            case .failure(let error):
                slot.fail(error)
            case .success(let channel):
                let timer = loop.scheduleTask(in: budget) {
                    if slot.fail(
                        Failure(description: "\(address): no reply within \(budget.nanoseconds / 1_000_000) ms"))
                    {
                        channel.close(promise: nil)
                    }
                }
                slot.promise.futureResult.whenComplete { _ in timer.cancel() }
                channel.write(RESPClientHandler.Request(bytes: command, slot: slot), promise: nil)
            }
        }
        return slot.promise.futureResult
    }

    /// The loop's connection, connecting (and authenticating, selecting the database) when it has
    /// none or its last one closed.
    private func connection(on loop: any EventLoop) -> EventLoopFuture<any Channel> {
        let id = ObjectIdentifier(loop)
        if let existing = lock.withLock({ channels[id] }) { return existing }
        let endpoint = store.endpoint
        let budget = self.budget
        let connected = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(max(budget, .seconds(1)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture(withResultOf: {
                    try channel.pipeline.syncOperations.addHandler(RESPClientHandler())
                })
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .flatMap { channel -> EventLoopFuture<any Channel> in
                var setup: [[[UInt8]]] = []
                // The password is sent, never logged.
                if let password = endpoint.password, !password.isEmpty {
                    setup.append([Array("AUTH".utf8), Array(password.utf8)])
                }
                if endpoint.db != 0 { setup.append([Array("SELECT".utf8), Array(String(endpoint.db).utf8)]) }
                guard !setup.isEmpty else { return loop.makeSucceededFuture(channel) }
                let slots = setup.map { _ in RESPClientHandler.Slot(promise: loop.makePromise()) }
                for (command, slot) in zip(setup, slots) {
                    var bytes: [UInt8] = []
                    RESP.encode(command, into: &bytes)
                    channel.write(RESPClientHandler.Request(bytes: bytes, slot: slot), promise: nil)
                }
                return EventLoopFuture.whenAllSucceed(slots.map(\.promise.futureResult), on: loop)
                    .flatMapThrowing { replies in
                        for case .error(let e) in replies { throw Failure(description: "redis setup: \(e)") }
                        return channel
                    }
            }
        lock.withLock { channels[id] = connected }
        let forget: @Sendable () -> Void = { [weak self] in
            guard let self else { return }
            self.lock.withLock { if self.channels[id] === connected { self.channels[id] = nil } }
        }
        connected.whenComplete { result in
            switch result {
            case .failure: forget()
            case .success(let channel): channel.closeFuture.whenComplete { _ in forget() }
            }
        }
        return connected
    }
}

/// Writes commands and matches replies to them, in order. A request's slot may have been failed
/// already (its budget passed); its reply is then dropped.
final class RESPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    final class Slot: @unchecked Sendable {
        let promise: EventLoopPromise<RESP.Reply>
        private var done = false

        init(promise: EventLoopPromise<RESP.Reply>) { self.promise = promise }

        func succeed(_ reply: RESP.Reply) {
            guard !done else { return }
            done = true
            promise.succeed(reply)
        }

        /// Whether this call failed it (false when it was already done).
        @discardableResult
        func fail(_ error: any Error) -> Bool {
            guard !done else { return false }
            done = true
            promise.fail(error)
            return true
        }
    }

    struct Request {
        let bytes: [UInt8]
        let slot: Slot
    }

    private var pending = CircularBuffer<Slot>()
    private var received: ByteBuffer?
    private var flushScheduled = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending.append(request.slot)
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: request.bytes)), promise: promise)
        // One flush after this pass of the loop carries every command written during it.
        guard !flushScheduled else { return }
        flushScheduled = true
        let loop = context.eventLoop.assumeIsolatedUnsafeUnchecked()
        loop.execute { [self] in
            flushScheduled = false
            context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        if received == nil { received = chunk } else { received!.writeBuffer(&chunk) }
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
            if received!.readableBytes == 0 { received = nil }
            for reply in replies {
                guard let slot = pending.popFirst() else {
                    throw RESP.ProtocolError(description: "a reply nobody asked for")
                }
                slot.succeed(reply)
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
        while let slot = pending.popFirst() { slot.fail(error) }
    }
}
