import FeatureCore
import FsmlCore
import NIOCore
import OnlineStorage
import Synchronization

/// Reads entity states for requests: hot keys from a short-lived in-process cache, the rest in one
/// round trip to the store. From Redis, `read(_:on:)` asks on the request's own event loop without
/// blocking it (`EventLoopRedis`); the blocking `read(_:)` takes a free connection of its own, so a
/// request never waits for another's. Nor does one wait on a store that has failed: when the store
/// fails (down, or slower than the budget, which is each read's timeout) the circuit breaker opens
/// and requests get no states and are marked degraded, at once, until the background `StoreWatch`
/// finds the store answering again.
public final class StoreReader: @unchecked Sendable {
    public struct Result: Sendable {
        public var values: [[UInt8]?]
        public var degraded: Bool
        public var cacheHits: Int
    }

    private let stores: [any OnlineStore]
    /// Reads on the event loops for a Redis store or cluster; nil for the others.
    private let redis: (any LoopStoreReads)?
    private let cache: EntityCache?
    private let lock = NSLockLite()
    /// Indexes of the connections no request is using.
    private var idle: [Int]
    private let breaker = CircuitBreaker()
    private let watch: StoreWatch
    public let metrics: MetricsRegistry
    private let lookupSeconds: MetricsRegistry.Handle
    private let cacheHits: MetricsRegistry.Handle?
    private let cacheMisses: MetricsRegistry.Handle?

    /// `stores`: connections to the same store for requests, one request at a time each; `probe`:
    /// one more, for the background watch.
    public init(
        stores: [any OnlineStore], probe: any OnlineStore, cacheTTL: Double, metrics: MetricsRegistry,
        budgetMillis: Int = 20
    ) {
        precondition(!stores.isEmpty)
        self.stores = stores
        if let store = stores[0] as? RedisOnlineStore {
            redis = EventLoopRedis(store: store, budgetMillis: budgetMillis)
        } else if let cluster = stores[0] as? RedisClusterOnlineStore {
            redis = ClusterEventLoopRedis(store: cluster, budgetMillis: budgetMillis)
        } else {
            redis = nil
        }
        idle = Array(stores.indices.reversed())
        cache = cacheTTL > 0 ? EntityCache(ttlNanos: UInt64(cacheTTL * 1e9)) : nil
        self.metrics = metrics
        lookupSeconds = metrics.histogram(
            "fsml_serve_feature_lookup_seconds",
            help: "One round trip to the online store for a request's entity states.")
        let cached = cacheTTL > 0
        cacheHits =
            cached
            ? metrics.counter("fsml_serve_cache_hits_total", help: "Entity states served from the in-process cache.")
            : nil
        cacheMisses =
            cached
            ? metrics.counter("fsml_serve_cache_misses_total", help: "Entity states not in the in-process cache.") : nil
        metrics.add("fsml_serve_store_errors_total", 0, help: "Online store reads that failed or timed out.")
        metrics.add("fsml_serve_degraded_total", 0, help: "Answers scored without the online store.")
        metrics.add(
            "fsml_serve_store_busy_total", 0, help: "Requests that found every connection to the store in use.")
        metrics.add("fsml_serve_store_skipped_total", 0, help: Self.skippedHelp)
        watch = StoreWatch(store: probe, breaker: breaker, metrics: metrics)
    }

    deinit { watch.stop() }

    private static let skippedHelp = "Requests answered without reading the store, its breaker being open."

    public var description: String { stores[0].description }

    /// Whether the store answers (the breaker is closed).
    public var storeAvailable: Bool { breaker.allowsRequests }

    /// The stream clock the store holds, as last read by the watch.
    public var latestClock: Micros? { watch.latestClock }

    /// Probes done by the background watch.
    public var probes: Int { watch.probes }

    public typealias Key = (entity: Int, key: String)

    /// What the cache and the breaker decide before the store is asked.
    private struct Plan: Sendable {
        var values: [[UInt8]?]
        var wanted: [Int]
        var hits: Int
        var now: UInt64
    }

    private func plan(_ keys: [(entity: Int, key: String)]) -> Plan {
        let now = monotonicNanos()
        var values = [[UInt8]?](repeating: nil, count: keys.count)
        var wanted: [Int] = []
        var hits = 0
        if let cache {
            for (i, k) in keys.enumerated() {
                if let v = cache.get(entity: k.entity, key: k.key, now: now) {
                    values[i] = v
                    hits += 1
                } else {
                    wanted.append(i)
                }
            }
        } else {
            wanted = Array(keys.indices)
        }
        if let cacheHits, hits > 0 { metrics.add(cacheHits, Double(hits)) }
        if let cacheMisses, !wanted.isEmpty { metrics.add(cacheMisses, Double(wanted.count)) }
        return Plan(values: values, wanted: wanted, hits: hits, now: now)
    }

    /// The answer without the store, when it need not or must not be asked; nil when it must.
    private func withoutStore(_ plan: Plan) -> Result? {
        guard !plan.wanted.isEmpty else { return Result(values: plan.values, degraded: false, cacheHits: plan.hits) }
        guard breaker.allowsRequests else {
            metrics.add("fsml_serve_store_skipped_total", help: Self.skippedHelp)
            return Result(values: plan.values, degraded: true, cacheHits: plan.hits)
        }
        return nil
    }

    private func stored(_ read: [[UInt8]?], _ plan: Plan, _ keys: [Key], since begin: UInt64) -> Result {
        metrics.observe(lookupSeconds, Double(monotonicNanos() - begin) / 1e9)
        var values = plan.values
        for (j, i) in plan.wanted.enumerated() {
            values[i] = read[j]
            cache?.put(entity: keys[i].entity, key: keys[i].key, value: read[j], now: plan.now)
        }
        return Result(values: values, degraded: false, cacheHits: plan.hits)
    }

    private func failed(_ error: any Error, _ plan: Plan) -> Result {
        metrics.add("fsml_serve_store_errors_total")
        if breaker.failed() {
            StandardError.line("fsml serve: online store \(description): \(error); answering degraded")
        }
        return Result(values: plan.values, degraded: true, cacheHits: plan.hits)
    }

    public func read(_ keys: [(entity: Int, key: String)]) -> Result {
        if cache == nil && stores[0].readsConcurrently { return readShared(keys) }
        let plan = plan(keys)
        if let early = withoutStore(plan) { return early }
        // A store that reads concurrently (memory) is shared; a connection serves one request.
        let shared = stores[0].readsConcurrently
        guard let connection = shared ? 0 : lock.withLock({ idle.popLast() }) else {
            metrics.add("fsml_serve_store_busy_total")
            return Result(values: plan.values, degraded: true, cacheHits: plan.hits)
        }
        defer { if !shared { lock.withLock { idle.append(connection) } } }
        let begin = monotonicNanos()
        do {
            // Without a cache every key is wanted: the keys go as they came.
            let wanted = plan.wanted.count == keys.count ? keys : plan.wanted.map { keys[$0] }
            return stored(try stores[connection].read(wanted), plan, keys, since: begin)
        } catch {
            return failed(error, plan)
        }
    }

    /// `read` from a store every request shares (memory) with no cache in front: what `plan` and
    /// `stored` would do, without the arrays they make to merge cached values.
    private func readShared(_ keys: [Key]) -> Result {
        guard !keys.isEmpty else { return Result(values: [], degraded: false, cacheHits: 0) }
        let none = { Plan(values: [[UInt8]?](repeating: nil, count: keys.count), wanted: [], hits: 0, now: 0) }
        guard breaker.allowsRequests else {
            metrics.add("fsml_serve_store_skipped_total", help: Self.skippedHelp)
            return Result(values: none().values, degraded: true, cacheHits: 0)
        }
        let begin = monotonicNanos()
        do {
            let values = try stores[0].read(keys)
            metrics.observe(lookupSeconds, Double(monotonicNanos() - begin) / 1e9)
            return Result(values: values, degraded: false, cacheHits: 0)
        } catch {
            return failed(error, none())
        }
    }

    /// The same on `loop` without blocking it, where the store is Redis (`EventLoopRedis`), the
    /// result given to `done` on `loop`; otherwise the blocking read, done and given at once.
    public func read(
        _ keys: [(entity: Int, key: String)], on loop: any EventLoop, done: @escaping @Sendable (Result) -> Void
    ) {
        guard let redis else { return done(read(keys)) }
        let plan = plan(keys)
        if let early = withoutStore(plan) { return done(early) }
        let begin = monotonicNanos()
        // A failed read is a degraded answer, never an error.
        redis.read(plan.wanted.map { keys[$0] }, on: loop) { outcome in
            switch outcome {
            case .success(let values): done(self.stored(values, plan, keys, since: begin))
            case .failure(let error): done(self.failed(error, plan))
            }
        }
    }
}

/// Entity states kept for at most `ttl` (≤ 1 s): products are Zipf-hot, so most requests name a
/// product another request just read. Absent states are cached too (unknown ids stay cheap).
final class EntityCache: @unchecked Sendable {
    private struct Entry {
        var value: [UInt8]?
        var expires: UInt64
    }

    private let ttlNanos: UInt64
    private let lock = NSLockLite()
    private var entries: [String: Entry] = [:]
    private static let maxEntries = 100_000

    init(ttlNanos: UInt64) { self.ttlNanos = min(ttlNanos, 1_000_000_000) }

    func get(entity: Int, key: String, now: UInt64) -> [UInt8]?? {
        lock.withLock {
            guard let e = entries["\(entity)\u{1F}\(key)"], e.expires > now else { return nil }
            return .some(e.value)
        }
    }

    func put(entity: Int, key: String, value: [UInt8]?, now: UInt64) {
        lock.withLock {
            if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
            entries["\(entity)\u{1F}\(key)"] = Entry(value: value, expires: now + ttlNanos)
        }
    }
}
