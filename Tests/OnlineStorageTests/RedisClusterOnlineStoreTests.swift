import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

@testable import OnlineStorage

/// What only the cluster store does, against real clusters on loopback: keys spread over every
/// master and listed from all of them, reads from replicas, and a slot migrated by hand under the
/// store's feet (ASK while it moves, MOVED after).
@Suite struct RedisClusterOnlineStoreTests {
    static let registry = OnlineStoreTests.registry
    static let user = OnlineStoreTests.user

    /// A record whose state starts with the format version, as real states do (what does not is
    /// replaced by any write: see `StoredValue.isPlausible`).
    static func record(_ key: String, _ time: Micros, _ blob: [UInt8]) -> StateRecord {
        StateRecord(entity: user, key: key, lastTime: time, blob: [StateCodec.version] + blob)
    }

    /// The states read, without their version byte.
    static func states(_ values: [[UInt8]?]) -> [[UInt8]?] {
        values.map { $0.flatMap(StoredValue.blob).map { Array($0.dropFirst()) } }
    }

    static func open(_ url: String, project: String) throws -> RedisClusterOnlineStore {
        try #require(
            try OnlineStores.open(try OnlineStoreURL.parse(url), project: project, entities: registry.entities)
                as? RedisClusterOnlineStore)
    }

    static func keyCount(_ server: RedisServer) -> Int {
        Int(server.query(["DBSIZE"]).dropFirst().prefix { $0.isNumber }) ?? -1
    }

    @Test func keysSpreadOverEveryMasterAndAreListedAndClearedFromAll() throws {
        let cluster = try RedisCluster.shared()
        let project = "spread-\(UUID().uuidString)"
        let store = try Self.open(cluster.url, project: project)
        let keys = (0..<600).map { "u\($0)" }
        try store.write(keys.enumerated().map { Self.record($1, Micros($0), [UInt8($0 & 0xff)]) })
        let masters = store.slotMap.masters
        #expect(masters.count == 3)
        // Every master holds some of them (600 keys over 3 masters: none gets none).
        for m in masters {
            let reply = try store.router.connection(m).roundTripBytes([
                [
                    Array("SCAN".utf8), Array("0".utf8), Array("MATCH".utf8), Array("\(project):*".utf8),
                    Array("COUNT".utf8), Array("100000".utf8),
                ]
            ])[0]
            guard case .array(let parts) = reply, case .array(let found) = parts[1] else {
                Issue.record("SCAN on \(m): \(reply)")
                continue
            }
            #expect(found.count > 100, "\(m) holds \(found.count) keys")
        }
        #expect(try store.keys(entity: Self.user).sorted() == keys.sorted())
        let values = try store.read(keys.map { (Self.user, $0) })
        #expect(values.enumerated().allSatisfy { i, v in Self.states([v])[0] == [UInt8(i & 0xff)] })
        try store.clear()
        #expect(try store.keys(entity: Self.user).isEmpty)
    }

    @Test func readsFromReplicasSeeWhatWasWritten() throws {
        let cluster = try RedisCluster.shared()
        let project = "replicas-\(UUID().uuidString)"
        let writer = try Self.open(cluster.url, project: project)
        let reader = try Self.open(cluster.url + "?replicas=read", project: project)
        #expect(reader.readsFromReplicas && reader.description.hasPrefix("redis+cluster://"))
        let keys = (0..<50).map { "r\($0)" }
        try writer.write(keys.map { Self.record($0, 7, [7]) })
        // Replication is asynchronous: wait until the replicas have it, then every value is there.
        try cluster.waitUntil("the replicas hold the writes") {
            (try? reader.read(keys.map { (Self.user, $0) }))?.allSatisfy { $0 != nil } == true
        }
        #expect(try reader.read(keys.map { (Self.user, $0) }).allSatisfy { Self.states([$0])[0] == [7] })
    }

    /// A slot moved by hand, step by step as `redis-cli --cluster reshard` does it.
    @Test func aMigratingSlotIsFollowedByAskThenMoved() throws {
        let cluster = try RedisCluster()
        defer { cluster.stop() }
        let project = "migrate"
        let store = try Self.open(cluster.url, project: project)
        // Two keys in one slot (a hash tag), one written before the migration starts.
        let (k1, k2) = ("{t}1", "{t}2")
        let slot = HashSlot.of("\(project):user:\(k1)")
        #expect(slot == HashSlot.of("\(project):user:\(k2)") && slot == HashSlot.of("t"))
        let nodes = RedisCluster.nodes(cluster.servers[0])
        let source = try #require(nodes.first { $0.isMaster && $0.slots.contains { $0.contains(slot) } })
        let target = try #require(nodes.first { $0.isMaster && $0.slotCount > 0 && $0.id != source.id })
        let a = try #require(cluster.server(port: source.port))
        let b = try #require(cluster.server(port: target.port))
        try store.write([Self.record(k1, 10, [1])])

        #expect(b.query(["CLUSTER", "SETSLOT", String(slot), "IMPORTING", source.id]).hasPrefix("+OK"))
        #expect(a.query(["CLUSTER", "SETSLOT", String(slot), "MIGRATING", target.id]).hasPrefix("+OK"))
        // k2 is not on the source: ASK sends it to the target.
        try store.write([Self.record(k2, 20, [2])])
        #expect(Self.keyCount(b) == 1)
        // k1 is still on the source, which takes it.
        try store.write([Self.record(k1, 11, [3])])
        #expect(
            a.query(["MIGRATE", "127.0.0.1", String(target.port), "", "0", "5000", "KEYS", "\(project):user:\(k1)"])
                .hasPrefix("+OK"))
        // Both now on the target, reached by ASK.
        #expect(Self.states(try store.read([(Self.user, k1), (Self.user, k2)])) == [[3], [2]])
        #expect(store.slotMap.master(slot: slot)?.port == source.port)

        for server in cluster.servers {
            _ = server.query(["CLUSTER", "SETSLOT", String(slot), "NODE", target.id])
        }
        // The source now answers MOVED: the store follows it and reads the map again.
        #expect(Self.states(try store.read([(Self.user, k1), (Self.user, k2)])) == [[3], [2]])
        #expect(store.slotMap.master(slot: slot)?.port == target.port)
        // Event time still wins on the new node.
        try store.write([Self.record(k1, 5, [9]), Self.record(k2, 21, [4])])
        #expect(Self.states(try store.read([(Self.user, k1), (Self.user, k2)])) == [[3], [4]])
        // A migration is no failover: nothing was lost, the writer is not told to write it all again.
        #expect(try store.readMarker("none") == nil)
        try store.writeMarker("job", token: "x")
        #expect(try store.readMarker("job") == "x")
    }

    @Test func aClusterNobodyAnswersIsAClearError() throws {
        let port = try RedisServer.freePort()
        #expect {
            _ = try OnlineStores.open(
                try OnlineStoreURL.parse("redis+cluster://127.0.0.1:\(port)/"), project: "p",
                entities: Self.registry.entities, timeoutMillis: 200)
        } throws: { "\($0)".contains("no node gave a slot map") && "\($0)".contains("127.0.0.1:\(port)") }
    }

    @Test func aPlainRedisIsNotACluster() throws {
        let server = try RedisServer()
        #expect {
            _ = try OnlineStores.open(
                try OnlineStoreURL.parse("redis+cluster://127.0.0.1:\(server.port)/"), project: "p",
                entities: Self.registry.entities)
        } throws: { "\($0)".contains("cluster support disabled") }
    }
}
