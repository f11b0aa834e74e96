import FeatureCore
import FsmlCore

/// Sends commands to a Redis Cluster: each to the node that serves its slot, per node in one
/// pipeline, every node's pipeline written before any is read (so the nodes work at once and a
/// batch costs one round trip to the slowest node). MOVED re-sends to the node named and has
/// the slot map read again; ASK re-sends there after ASKING, for that command only (a slot being
/// migrated); TRYAGAIN (keys of one call split by a migration) is re-sent after a short wait.
/// A node that cannot be reached fails the call, after every other reply was read, and the map
/// is read again before the next one: the caller retries (the stream's writer does, with backoff).
/// Not thread-safe: the store calls it under its lock.
final class ClusterRouter {
    let seeds: [ClusterNodeAddress]
    private let password: String?
    private let timeoutMillis: Int
    private(set) var map: ClusterSlotMap
    private var connections: [ClusterNodeAddress: RedisConnection] = [:]
    private var replicaConnections: [ClusterNodeAddress: RedisConnection] = [:]
    private var stale = true
    /// Nodes `execute`'s `prepare` ran on (the store's script is loaded there); a node is dropped
    /// from it when it answers NOSCRIPT or its connection fails (a restarted node has no scripts).
    private var prepared = Set<ClusterNodeAddress>()
    /// Set when a map read showed a replica promoted (`ClusterSlotMap.promotedSince`); taken by
    /// the store.
    var promotionSeen = false
    /// Redirect rounds per call before giving up (a migration moves a slot once; a failover
    /// changes the map once; more rounds than this is a cluster that does not settle).
    static let maxRounds = 16

    init(seeds: [ClusterNodeAddress], password: String?, timeoutMillis: Int) {
        self.seeds = seeds
        self.password = password
        self.timeoutMillis = timeoutMillis
        map = ClusterSlotMap(shards: [])
    }

    var description: String { "redis+cluster://" + seeds.map(\.description).joined(separator: ",") + "/" }

    func connection(_ node: ClusterNodeAddress, replica: Bool = false) -> RedisConnection {
        if replica, let c = replicaConnections[node] { return c }
        if !replica, let c = connections[node] { return c }
        let c = RedisConnection(
            host: node.host, port: node.port, db: 0, password: password, timeoutMillis: timeoutMillis, readOnly: replica
        )
        if replica { replicaConnections[node] = c } else { connections[node] = c }
        return c
    }

    /// Reads the slot map from the first node that answers with one covering every slot (the
    /// masters it knew, then the seeds); a map with holes only when no node has a whole one.
    func refresh() throws {
        var partial: ClusterSlotMap?
        var failures: [String] = []
        var tried = Set<ClusterNodeAddress>()
        let candidates = map.masters + map.shards.flatMap(\.replicas) + seeds
        for node in candidates where tried.insert(node).inserted {
            do {
                let reply = try connection(node).roundTrip([["CLUSTER", "SLOTS"]])[0]
                let fresh = try ClusterSlotMap.parse(clusterSlots: reply, askedHost: node.host)
                if fresh.coversEverySlot {
                    install(fresh)
                    return
                }
                if partial == nil { partial = fresh }
            } catch {
                failures.append("\(error)")
            }
        }
        if let partial, !partial.shards.isEmpty {
            install(partial)
            return
        }
        throw OnlineStoreError(
            "\(description): no node gave a slot map (\(failures.first ?? "every slot map had holes"))")
    }

    private func install(_ fresh: ClusterSlotMap) {
        if fresh.promotedSince(map) { promotionSeen = true }
        map = fresh
        stale = false
    }

    func refreshIfStale() throws { if stale { try refresh() } }

    func markStale() { stale = true }

    /// Where a redirect points, with the host of the node that sent it when it names none.
    private func resolve(_ to: ClusterNodeAddress, from node: ClusterNodeAddress) -> ClusterNodeAddress {
        to.host.isEmpty ? ClusterNodeAddress(host: node.host, port: to.port) : to
    }

    /// Runs `calls` (each one command, on the key slot `slots[i]`) and returns their replies in
    /// order. `prepare` runs on a node before the first command goes to it, and again only after
    /// the node lost what it did (the store loads its script there). `replicas`: read from a replica of the slot when it has one.
    func execute(
        _ calls: [RESPCommands], slots: [Int], replicas: Bool = false,
        prepare: ((ClusterNodeAddress, RedisConnection) throws -> Void)? = nil
    ) throws -> [RedisReply] {
        var replies = [RedisReply?](repeating: nil, count: calls.count)
        var pending = Array(calls.indices)
        // Per call, where the last reply sent it, and whether it must say ASKING first.
        var redirected: [Int: (node: ClusterNodeAddress, asking: Bool)] = [:]
        var round = 0
        while !pending.isEmpty {
            try refreshIfStale()
            round += 1
            guard round <= Self.maxRounds else {
                throw OnlineStoreError("\(description): still redirected after \(Self.maxRounds) rounds")
            }
            var byNode: [ClusterNodeAddress: [Int]] = [:]
            var replicaNodes = Set<ClusterNodeAddress>()
            for i in pending {
                let slot = slots[i]
                if let r = redirected[i] {
                    byNode[r.node, default: []].append(i)
                } else if replicas, case let rs = map.replicas(slot: slot), !rs.isEmpty {
                    let node = rs[slot % rs.count]
                    replicaNodes.insert(node)
                    byNode[node, default: []].append(i)
                } else if let node = map.master(slot: slot) {
                    byNode[node, default: []].append(i)
                } else {
                    stale = true
                    throw OnlineStoreError("\(description): no node serves slot \(slot)")
                }
            }
            var failures: [String] = []
            var sent: [(node: ClusterNodeAddress, indices: [Int], connection: RedisConnection, count: Int)] = []
            for node in byNode.keys.sorted() {
                let indices = byNode[node]!
                let c = connection(node, replica: replicaNodes.contains(node))
                var batch = RESPCommands()
                for i in indices {
                    if redirected[i]?.asking == true { batch.append(Self.asking) }
                    batch.append(calls[i])
                }
                do {
                    if let prepare, !prepared.contains(node) {
                        try prepare(node, c)
                        prepared.insert(node)
                    }
                    try c.send(batch)
                    sent.append((node, indices, c, batch.count))
                } catch {
                    prepared.remove(node)
                    failures.append("\(error)")
                }
            }
            var next: [Int] = []
            var wait = false
            for (node, indices, c, count) in sent {
                let got: [RedisReply]
                do { got = try c.receive(count) } catch {
                    prepared.remove(node)
                    failures.append("\(error)")
                    continue
                }
                var k = 0
                for i in indices {
                    if redirected[i]?.asking == true { k += 1 }  // ASKING's +OK
                    let reply = got[k]
                    k += 1
                    redirected[i] = nil
                    if case .error(let e) = reply {
                        if let r = ClusterRedirect.parse(e) {
                            switch r {
                            case .moved(_, let to):
                                stale = true
                                redirected[i] = (resolve(to, from: node), false)
                            case .ask(_, let to):
                                redirected[i] = (resolve(to, from: node), true)
                            }
                            next.append(i)
                            continue
                        }
                        if e.hasPrefix("TRYAGAIN") {
                            wait = true
                            next.append(i)
                            continue
                        }
                        if e.hasPrefix("NOSCRIPT") {
                            prepared.remove(node)
                            next.append(i)
                            continue
                        }
                        if e.hasPrefix("CLUSTERDOWN") || e.hasPrefix("READONLY") || e.hasPrefix("LOADING") {
                            // The node's view is changing (a failover): the map is read again.
                            stale = true
                            failures.append("\(node): \(e)")
                            continue
                        }
                    }
                    replies[i] = reply
                }
            }
            if let first = failures.first {
                stale = true
                throw OnlineStoreError("\(description): \(first)")
            }
            pending = next
            if wait { sleepNanos(5_000_000) }
        }
        return replies.map { $0! }
    }

    /// One command, written as arguments, on the slot of its key.
    func command(_ arguments: [[UInt8]], key: [UInt8]) throws -> RedisReply {
        var c = RESPCommands()
        c.begin(arguments: arguments.count)
        for a in arguments { c.argument(a) }
        return try execute([c], slots: [HashSlot.of(key)])[0]
    }

    private static let asking: RESPCommands = {
        var c = RESPCommands()
        c.begin(arguments: 1)
        c.argument(Array("ASKING".utf8))
        return c
    }()
}
