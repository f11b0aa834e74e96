import FeatureCore
import FsmlCore
import OnlineStorage
import Synchronization

/// Reads entity states for requests: hot keys from a short-lived in-process cache, the rest in one
/// round trip to the store. When the store fails (down, or slower than the budget, which is the
/// connection's timeout) requests get no states and are marked degraded; for the next half second
/// no request waits on the store, then one tries again (the connection reconnects by itself).
public final class StateReader: @unchecked Sendable {
    public struct Result {
        public var values: [[UInt8]?]
        public var degraded: Bool
        public var cacheHits: Int
    }

    private let stores: [any OnlineStore]
    private let next = Atomic<Int>(0)
    private let cache: EntityCache?
    private let lock = NSLockLite()
    private var downUntil: UInt64 = 0
    public static let retryAfterNanos: UInt64 = 500_000_000
    public let metrics: MetricsRegistry

    /// `stores`: one or more connections to the same store, used in turn by concurrent requests.
    public init(stores: [any OnlineStore], cacheTTL: Double, metrics: MetricsRegistry) {
        precondition(!stores.isEmpty)
        self.stores = stores
        cache = cacheTTL > 0 ? EntityCache(ttlNanos: UInt64(cacheTTL * 1e9)) : nil
        self.metrics = metrics
    }

    public var description: String { stores[0].description }

    public func read(_ keys: [(entity: Int, key: String)]) -> Result {
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
        if hits > 0 {
            metrics.add(
                "fsml_serve_cache_hits_total", Double(hits), help: "Entity states served from the in-process cache.")
        }
        if !wanted.isEmpty {
            metrics.add(
                "fsml_serve_cache_misses_total", Double(wanted.count),
                help: "Entity states not in the in-process cache.")
        }
        guard !wanted.isEmpty else { return Result(values: values, degraded: false, cacheHits: hits) }
        if lock.withLock({ now < downUntil }) {
            return Result(values: values, degraded: true, cacheHits: hits)
        }
        let store = stores[next.wrappingAdd(1, ordering: .relaxed).oldValue % stores.count]
        let begin = monotonicNanos()
        do {
            let read = try store.read(wanted.map { keys[$0] })
            metrics.observe(
                "fsml_serve_feature_lookup_seconds", Double(monotonicNanos() - begin) / 1e9,
                help: "One round trip to the online store for a request's entity states.")
            for (j, i) in wanted.enumerated() {
                values[i] = read[j]
                cache?.put(entity: keys[i].entity, key: keys[i].key, value: read[j], now: now)
            }
            return Result(values: values, degraded: false, cacheHits: hits)
        } catch {
            lock.withLock { downUntil = monotonicNanos() + Self.retryAfterNanos }
            metrics.add("fsml_serve_store_errors_total", help: "Online store reads that failed or timed out.")
            StandardError.line("fsml serve: online store \(store.description): \(error)")
            return Result(values: values, degraded: true, cacheHits: hits)
        }
    }

    public func readClock() -> Micros? {
        try? stores[0].readClock()
    }

    public func ping() -> Bool { (try? stores[0].ping()) != nil }
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
