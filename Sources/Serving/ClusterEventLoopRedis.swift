import Foundation
import FsmlCore
import NIOCore
import OnlineStorage
import Synchronization

/// How the server reads entity states on a request's event loop without blocking it.
protocol LoopStoreReads: Sendable {
    func read(
        _ keys: [(entity: Int, key: String)], on loop: any EventLoop,
        done: @escaping @Sendable (Result<[[UInt8]?], any Error>) -> Void)
}

extension LoopStoreReads {
    /// The same as a future (for tests and callers off the loop).
    func read(_ keys: [(entity: Int, key: String)], on loop: any EventLoop) -> EventLoopFuture<[[UInt8]?]> {
        let promise = loop.makePromise(of: [[UInt8]?].self)
        read(keys, on: loop) { promise.completeWith($0) }
        return promise.futureResult
    }
}

/// The server's reads from a Redis Cluster on its event loops: the request's keys are grouped by
/// the node serving their slot (a replica of it with `?replicas=read`), one GET per key on that
/// loop's connection to the node; the GETs of one pass of the loop leave in one write per node,
/// so a request costs one round trip per node involved, all in flight at once. A MOVED or ASK
/// reply is followed once (ASKING first for ASK) and has the slot map read again off the loop.
/// The request as a whole has the budget: past it, it fails (and is answered degraded) whatever
/// is still outstanding. The map is also read again every `refreshSeconds` while requests come:
/// a change that answers no read with an error (a replaced node whose address now answers for
/// something else) is seen within that time.
final class ClusterEventLoopRedis: LoopStoreReads, @unchecked Sendable {
    typealias Failure = EventLoopRedis.Failure

    let store: RedisClusterOnlineStore
    let budget: TimeAmount
    private let prefixes: [[UInt8]]
    private let lock = NSLockLite()
    private var map: ClusterSlotMap
    private var clients: [Client: RedisLoopClient] = [:]
    private let refreshing = Atomic<Bool>(false)
    private let lastRefresh = Atomic<UInt64>(0)
    static let refreshSeconds = 5.0

    private struct Client: Hashable {
        let loop: ObjectIdentifier
        let node: ClusterNodeAddress
        let replica: Bool
    }

    init(store: RedisClusterOnlineStore, budgetMillis: Int) {
        self.store = store
        budget = .milliseconds(Int64(max(1, budgetMillis)))
        prefixes = store.keyPrefixes
        map = store.slotMap
        lastRefresh.store(monotonicNanos(), ordering: .relaxed)
    }

    func read(
        _ keys: [(entity: Int, key: String)], on loop: any EventLoop,
        done: @escaping @Sendable (Result<[[UInt8]?], any Error>) -> Void
    ) {
        guard loop.inEventLoop else {
            loop.execute { self.read(keys, on: loop, done: done) }
            return
        }
        guard !keys.isEmpty else { return done(.success([])) }
        if Double(monotonicNanos() &- lastRefresh.load(ordering: .relaxed)) > Self.refreshSeconds * 1e9 {
            refreshMap()
        }
        let map = lock.withLock { self.map }
        let request = Request(count: keys.count, done: done)
        let timer = loop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: budget) { [budget] in
            // A node that stopped answering may be one the cluster has replaced: a map read before its
            // replica took over would otherwise send every later request to it, each one timing out.
            self.refreshMap()
            request.fail(
                Failure(description: "\(self.store.description): no reply within \(budget.nanoseconds / 1_000_000) ms"))
        }
        request.timer = timer
        for (i, k) in keys.enumerated() {
            let key = prefixes[k.entity] + k.key.utf8
            let slot = HashSlot.of(key)
            let replicas = store.readsFromReplicas ? map.replicas(slot: slot) : []
            let node: ClusterNodeAddress
            let replica = !replicas.isEmpty
            if replica {
                node = replicas[slot % replicas.count]
            } else if let master = map.master(slot: slot) {
                node = master
            } else {
                refreshMap()
                return request.fail(Failure(description: "\(store.description): no node serves slot \(slot)"))
            }
            get(key, index: i, node: node, replica: replica, asking: false, redirects: 0, request: request, loop: loop)
        }
    }

    /// One GET on `node`'s connection from `loop`; a redirect is followed once.
    private func get(
        _ key: [UInt8], index: Int, node: ClusterNodeAddress, replica: Bool, asking: Bool, redirects: Int,
        request: Request, loop: any EventLoop
    ) {
        let client = client(loop: loop, node: node, replica: replica)
        if asking {
            client.send(encode: { RESP.encode([Array("ASKING".utf8)], into: &$0) }, done: { _ in })
        }
        client.send(
            encode: { RESP.encode([Array("GET".utf8), key], into: &$0) },
            done: { [self] reply in
                switch reply {
                case .failure(let error):
                    refreshMap()
                    request.fail(error)
                case .success(.bulk(let b)): request.set(index, b)
                case .success(.null): request.set(index, nil)
                case .success(.error(let e)):
                    if let redirect = ClusterRedirect.parse(e), redirects == 0 {
                        let (to, ask): (ClusterNodeAddress, Bool)
                        switch redirect {
                        case .moved(_, let t):
                            refreshMap()
                            (to, ask) = (t, false)
                        case .ask(_, let t): (to, ask) = (t, true)
                        }
                        let target = to.host.isEmpty ? ClusterNodeAddress(host: node.host, port: to.port) : to
                        get(
                            key, index: index, node: target, replica: false, asking: ask, redirects: 1,
                            request: request, loop: loop)
                    } else {
                        if e.hasPrefix("CLUSTERDOWN") { refreshMap() }
                        request.fail(Failure(description: "\(node): \(e)"))
                    }
                case .success(let other):
                    request.fail(Failure(description: "\(node): unexpected GET reply \(other)"))
                }
            })
    }

    private func client(loop: any EventLoop, node: ClusterNodeAddress, replica: Bool) -> RedisLoopClient {
        let id = Client(loop: ObjectIdentifier(loop), node: node, replica: replica)
        return lock.withLock {
            if let c = clients[id] { return c }
            var endpoint = store.endpoint(node)
            endpoint.readOnly = replica
            let c = RedisLoopClient(loop: loop, endpoint: endpoint, address: "redis \(node)", budget: budget)
            clients[id] = c
            return c
        }
    }

    /// Reads the slot map again on a thread of its own (it blocks), one read at a time.
    private func refreshMap() {
        guard refreshing.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        lastRefresh.store(monotonicNanos(), ordering: .relaxed)
        let thread = Thread { [self] in
            defer { refreshing.store(false, ordering: .releasing) }
            guard (try? store.refreshSlotMap()) != nil else { return }
            let fresh = store.slotMap
            lock.withLock { map = fresh }
        }
        thread.start()
    }

    /// One request's values as they come, on its loop; answered once (all values, or the first
    /// failure, or the budget's end).
    private final class Request: @unchecked Sendable {
        private var values: [[UInt8]?]
        private var remaining: Int
        private var done: (@Sendable (Result<[[UInt8]?], any Error>) -> Void)?
        var timer: Scheduled<Void>?

        init(count: Int, done: @escaping @Sendable (Result<[[UInt8]?], any Error>) -> Void) {
            values = Array(repeating: nil, count: count)
            remaining = count
            self.done = done
        }

        func set(_ i: Int, _ value: [UInt8]?) {
            guard let d = done else { return }
            values[i] = value
            remaining -= 1
            if remaining == 0 {
                done = nil
                timer?.cancel()
                d(.success(values))
            }
        }

        func fail(_ error: any Error) {
            guard let d = done else { return }
            done = nil
            timer?.cancel()
            d(.failure(error))
        }
    }
}
