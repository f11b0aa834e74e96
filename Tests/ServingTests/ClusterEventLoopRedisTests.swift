import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import NIOCore
import NIOPosix
import OnlineStorage
import Testing

@testable import Serving

/// The server's non-blocking reads from a real Redis Cluster: the values the blocking store reads,
/// from masters or replicas; with a master killed, a request is answered (degraded) within its
/// budget, and once a replica took over, reads are whole again.
@Suite struct ClusterEventLoopRedisTests {
    static let registry = EventFactory.referenceRegistry()
    static let user = registry.entityIndex("user")!
    static let product = registry.entityIndex("product")!

    static func store(_ url: String, project: String) throws -> RedisClusterOnlineStore {
        try #require(
            try OnlineStores.open(try OnlineStoreURL.parse(url), project: project, entities: registry.entities)
                as? RedisClusterOnlineStore)
    }

    static let keys: [StoreReader.Key] = (0..<60).map { (user, "u\($0)") } + [(product, "p:1"), (user, "nobody")]

    static func fill(_ store: RedisClusterOnlineStore) throws {
        try store.write(
            keys.dropLast().enumerated().map {
                StateRecord(entity: $1.entity, key: $1.key, lastTime: 10, blob: [UInt8($0)])
            })
    }

    @Test func readsWhatTheStoreHoldsFromMastersAndReplicas() throws {
        let cluster = try RedisCluster.shared()
        let project = "loop-\(UUID().uuidString)"
        let store = try Self.store(cluster.url, project: project)
        try Self.fill(store)
        let expected = try store.read(Self.keys)
        #expect(expected.compactMap { $0 }.count == Self.keys.count - 1)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let redis = ClusterEventLoopRedis(store: store, budgetMillis: 5_000)
        #expect(try redis.read(Self.keys, on: loop).wait() == expected)
        // Many at once on one loop share its connections and each gets its own values.
        let many = (0..<100).map { i in redis.read([Self.keys[i % Self.keys.count]], on: loop) }
        for (i, f) in many.enumerated() { #expect(try f.wait()[0] == expected[i % Self.keys.count]) }

        let replicas = try Self.store(cluster.url + "?replicas=read", project: project)
        let fromReplicas = ClusterEventLoopRedis(store: replicas, budgetMillis: 5_000)
        try cluster.waitUntil("the replicas hold the writes") {
            (try? fromReplicas.read(Self.keys, on: loop).wait()) == expected
        }
    }

    @Test func aKilledMasterCostsARequestItsBudgetAndThePromotedReplicaServesAgain() throws {
        let cluster = try RedisCluster()
        defer { cluster.stop() }
        let store = try Self.store(cluster.url, project: "t")
        try Self.fill(store)
        let expected = try store.read(Self.keys)
        // The replicas have every state before their masters can die (replication is asynchronous).
        try cluster.waitForReplication()
        let probe = try Self.store(cluster.url, project: "t")
        let budget = 300
        let reader = StoreReader(
            stores: [store], probe: probe, cacheTTL: 0, metrics: MetricsRegistry(), budgetMillis: budget)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        func read() -> StoreReader.Result {
            let promise = loop.makePromise(of: StoreReader.Result.self)
            reader.read(Self.keys, on: loop) { promise.succeed($0) }
            return try! promise.futureResult.wait()
        }
        #expect(read().values == expected)
        let dead = try cluster.crashMaster()
        // Every answer while the master is dead comes (a read that hung would never resolve), whole
        // or degraded by the budget's timer; a whole one holds the stored values.
        for _ in 0..<5 {
            let result = read()
            if !result.degraded { #expect(result.values == expected) }
        }
        try cluster.waitForFailover(of: dead)
        try cluster.waitUntil("reads are whole again") {
            let result = read()
            return !result.degraded && result.values == expected
        }
    }
}
