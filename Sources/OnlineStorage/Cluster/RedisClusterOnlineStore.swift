import FeatureCore
import FsmlCore

/// Entity states in a Redis Cluster, with the same keys, values and event-time-wins script as
/// `RedisOnlineStore`. A script call may only touch keys of one slot, so records are grouped by
/// slot (`SlotGroups`: with 16384 slots most calls hold one key) and each group is one atomic
/// call; the calls go to their nodes in per-node pipelines (`ClusterRouter`). Reads are GETs in
/// per-node pipelines (MGET across slots is refused too). Thread-safe (under one lock).
///
/// A failover can lose the last writes the old master acknowledged: replication is asynchronous.
/// When a map read shows a replica promoted, the store's next `readMarker` answers nil, which is
/// what a store that lost its data answers: the stream job's writer then writes every state it
/// holds again (event-time-wins makes that harmless where nothing was lost).
public final class RedisClusterOnlineStore: OnlineStore, @unchecked Sendable {
    let router: ClusterRouter
    let project: String
    let entities: [EntitySpec]
    /// Reads go to a replica of each slot where there is one (writes always go to masters).
    public let readsFromReplicas: Bool
    private let password: String?
    private let lock = NSLockLite()
    private var scriptSHA: [UInt8]?
    private let prefixes: [[UInt8]]

    public init(
        seeds: [ClusterNodeAddress], password: String?, project: String, entities: [EntitySpec], timeoutMillis: Int,
        readsFromReplicas: Bool = false
    ) throws {
        precondition(!seeds.isEmpty)
        router = ClusterRouter(seeds: seeds, password: password, timeoutMillis: timeoutMillis)
        self.password = password
        self.project = project
        self.entities = entities
        self.readsFromReplicas = readsFromReplicas
        prefixes = entities.map { Array("\(project):\($0.name):".utf8) }
        try ping()
    }

    public var description: String { router.description }

    public var keyPrefixes: [[UInt8]] { prefixes }

    public func redisKey(_ entity: Int, _ key: String) -> [UInt8] { prefixes[entity] + key.utf8 }

    /// The slot map as last read (the server's event-loop reader routes by it).
    public var slotMap: ClusterSlotMap { lock.withLock { router.map } }

    /// Reads the slot map again (after a MOVED seen elsewhere, or a node that went away).
    public func refreshSlotMap() throws { try lock.withLock { try router.refresh() } }

    /// How the server's event loops connect to a node: its address and this store's password.
    public func endpoint(_ node: ClusterNodeAddress) -> RedisEndpoint {
        RedisEndpoint(host: node.host, port: node.port, db: 0, password: password)
    }

    /// Every master answers PING (after the map is read, when it is stale).
    public func ping() throws {
        try lock.withLock {
            try router.refreshIfStale()
            for node in router.map.masters {
                let reply: RedisReply
                do { reply = try router.connection(node).roundTrip([["PING"]])[0] } catch {
                    router.markStale()
                    throw OnlineStoreError("\(description): \(error)")
                }
                guard case .status("PONG") = reply else {
                    router.markStale()
                    throw OnlineStoreError("\(description): \(node) did not answer PING with PONG (\(reply))")
                }
            }
        }
    }

    public func expire(watermark: Micros, entities: [Int]) throws {}

    // MARK: - Writing

    public func write(_ records: [StateRecord]) throws {
        let latest = StoredValue.latestPerKey(records)
        guard !latest.isEmpty else { return }
        let slots = latest.map { HashSlot.of(prefix: prefixes[$0.entity], $0.key) }
        let groups = SlotGroups.make(slots: slots, limit: RedisOnlineStore.keysPerScriptCall)
        try lock.withLock {
            let sha = try loadedScript()
            var calls: [RESPCommands] = []
            calls.reserveCapacity(groups.count)
            for g in groups {
                var c = RESPCommands(capacity: 64 + g.indices.count * 96)
                c.begin(arguments: 3 + 3 * g.indices.count)
                c.argument(Self.evalsha)
                c.argument(sha)
                c.argument(decimal: g.indices.count)
                for i in g.indices { c.argument(prefix: prefixes[latest[i].entity], latest[i].key) }
                for i in g.indices {
                    let r = latest[i]
                    c.argument(storedValue: r.blob, lastTime: r.lastTime)
                    c.argument(decimal: Int(max(1, entities[r.entity].ttl / 1000)))
                }
                calls.append(c)
            }
            // The script goes to each node before the first call there, and again to a node that
            // lost it (a promoted replica or a restarted master may have none).
            let replies = try router.execute(calls, slots: groups.map(\.slot)) { node, connection in
                let reply = try connection.roundTrip([["SCRIPT", "LOAD", RedisOnlineStore.writeScript]])[0]
                guard case .bulk = reply else {
                    throw OnlineStoreError("\(self.description): SCRIPT LOAD on \(node) failed (\(reply))")
                }
            }
            if let e = replies.lazy.compactMap({ if case .error(let e) = $0 { return e } else { return nil } }).first {
                throw OnlineStoreError("\(description): \(e)")
            }
        }
    }

    /// The script's SHA1, asked of a master once (every node gives the same for the same text).
    private func loadedScript() throws -> [UInt8] {
        if let scriptSHA { return scriptSHA }
        try router.refreshIfStale()
        guard let node = router.map.masters.first else { throw OnlineStoreError("\(description): no master") }
        guard
            case .bulk(let sha) = try router.connection(node).roundTrip([
                ["SCRIPT", "LOAD", RedisOnlineStore.writeScript]
            ])[0]
        else { throw OnlineStoreError("\(description): SCRIPT LOAD on \(node) failed") }
        scriptSHA = sha
        return sha
    }

    private static let evalsha = Array("EVALSHA".utf8)
    private static let get = Array("GET".utf8)

    // MARK: - Reading

    public func read(_ keys: [(entity: Int, key: String)]) throws -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        var calls: [RESPCommands] = []
        calls.reserveCapacity(keys.count)
        var slots: [Int] = []
        slots.reserveCapacity(keys.count)
        for k in keys {
            var c = RESPCommands()
            c.begin(arguments: 2)
            c.argument(Self.get)
            c.argument(prefix: prefixes[k.entity], k.key)
            calls.append(c)
            slots.append(HashSlot.of(prefix: prefixes[k.entity], k.key))
        }
        let replies = try lock.withLock { try router.execute(calls, slots: slots, replicas: readsFromReplicas) }
        return try replies.map {
            switch $0 {
            case .bulk(let b): return b
            case .error(let e): throw OnlineStoreError("\(description): \(e)")
            default: return nil
            }
        }
    }

    /// Every key of an entity kind: SCAN on every master (each holds its slots' keys only).
    public func keys(entity: Int) throws -> [String] {
        let prefix = "\(project):\(entities[entity].name):"
        var out: [String] = []
        try lock.withLock {
            try scanEveryMaster(match: RedisOnlineStore.globEscaped(prefix) + "*") { _, names in
                out += names.map { String(decoding: $0.dropFirst(prefix.utf8.count), as: UTF8.self) }
            }
        }
        return out
    }

    /// Deletes this project's keys on every master (tests and benchmarks start clean).
    public func clear() throws {
        try lock.withLock {
            try scanEveryMaster(match: RedisOnlineStore.globEscaped("\(project):") + "*") { node, names in
                // One DEL per key: a DEL of several keys in different slots is refused.
                _ = try router.connection(node).roundTripBytes(names.map { [Array("DEL".utf8), $0] })
            }
        }
    }

    private func scanEveryMaster(match pattern: String, _ body: (ClusterNodeAddress, [[UInt8]]) throws -> Void) throws {
        try router.refreshIfStale()
        for node in router.map.masters {
            let connection = router.connection(node)
            var cursor = "0"
            repeat {
                let reply: RedisReply
                do { reply = try connection.roundTrip([["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"]])[0] } catch
                {
                    router.markStale()
                    throw OnlineStoreError("\(description): \(error)")
                }
                guard case .array(let parts) = reply, parts.count == 2, case .bulk(let next) = parts[0],
                    case .array(let keys) = parts[1]
                else { throw OnlineStoreError("\(description): unexpected SCAN reply from \(node)") }
                let names = keys.compactMap { if case .bulk(let k) = $0 { return k } else { return nil } }
                if !names.isEmpty { try body(node, names) }
                cursor = String(decoding: next, as: UTF8.self)
            } while cursor != "0"
        }
    }

    // MARK: - Clock and markers

    var clockKey: [UInt8] { Array("\(project):_clock".utf8) }

    public func writeClock(_ t: Micros) throws {
        let reply = try lock.withLock {
            try router.command([Array("SET".utf8), clockKey, Array(String(t).utf8)], key: clockKey)
        }
        if case .error(let e) = reply { throw OnlineStoreError("\(description): \(e)") }
    }

    public func readClock() throws -> Micros? {
        switch try lock.withLock({ try router.command([Self.get, clockKey], key: clockKey) }) {
        case .bulk(let b): return Micros(String(decoding: b, as: UTF8.self)).flatMap(StoredValue.plausibleClock)
        case .error(let e): throw OnlineStoreError("\(description): \(e)")
        default: return nil
        }
    }

    func markerKey(_ name: String) -> [UInt8] { Array("\(project):_marker:\(name)".utf8) }

    /// The marker, or nil when it is gone or when a failover since the last call may have lost
    /// writes (see the type's comment).
    public func readMarker(_ name: String) throws -> String? {
        let key = markerKey(name)
        let reply = try lock.withLock {
            try router.refreshIfStale()
            if router.promotionSeen {
                router.promotionSeen = false
                return RedisReply.null
            }
            return try router.command([Self.get, key], key: key)
        }
        switch reply {
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        case .error(let e): throw OnlineStoreError("\(description): \(e)")
        default: return nil
        }
    }

    public func writeMarker(_ name: String, token: String) throws {
        let key = markerKey(name)
        let reply = try lock.withLock { try router.command([Array("SET".utf8), key, Array(token.utf8)], key: key) }
        if case .error(let e) = reply { throw OnlineStoreError("\(description): \(e)") }
    }
}
