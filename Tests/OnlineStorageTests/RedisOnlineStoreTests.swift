import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

@testable import OnlineStorage

/// What only the Redis store does: namespacing, key TTLs, passwords and databases, reconnection.
@Suite struct RedisOnlineStoreTests {
    static let registry = OnlineStoreTests.registry
    static let user = OnlineStoreTests.user
    static let product = OnlineStoreTests.product
    static func record(_ entity: Int, _ key: String, _ time: Micros, _ blob: [UInt8]) -> StateRecord {
        OnlineStoreTests.record(entity, key, time, blob)
    }
    static func blobs(_ values: [[UInt8]?]) -> [[UInt8]?] { OnlineStoreTests.blobs(values) }

    @Test func redisKeysAreNamespacedAndCarryTheEntityTTL() throws {
        let server = try RedisServer()
        let url = try OnlineStoreURL.parse(server.url)
        let a = try OnlineStores.open(url, project: "alpha", entities: Self.registry.entities)
        let b = try OnlineStores.open(url, project: "beta", entities: Self.registry.entities)
        try a.write([Self.record(Self.product, "p1", 10, [1])])
        #expect(try b.read([(Self.product, "p1")]) == [nil])
        let raw = RedisConnection(host: "127.0.0.1", port: server.port, db: 0, password: nil, timeoutMillis: 1000)
        let replies = try raw.roundTrip([["PTTL", "alpha:product:p1"], ["GET", "alpha:product:p1"]])
        guard case .integer(let pttl) = replies[0] else { Issue.record("no PTTL: \(replies[0])"); return }
        let ttlMillis = Self.registry.entities[Self.product].ttl / 1000
        #expect(pttl > ttlMillis - 60_000 && pttl <= ttlMillis)
        #expect(replies[1] == .bulk(StoredValue.encode(lastTime: 10, blob: [1])))
    }

    @Test func redisWithAPasswordAndADatabase() throws {
        let secret = "s3cr3t-\(UInt32.random(in: 0..<UInt32.max))"
        let server = try RedisServer(password: secret)
        let good = try OnlineStores.open(
            try OnlineStoreURL.parse("redis://:\(secret)@127.0.0.1:\(server.port)/3"), project: "p",
            entities: Self.registry.entities)
        #expect(!good.description.contains(secret))
        try good.write([Self.record(Self.user, "u1", 1, [1])])
        let otherDB = try OnlineStores.open(
            try OnlineStoreURL.parse("redis://:\(secret)@127.0.0.1:\(server.port)/0"), project: "p",
            entities: Self.registry.entities)
        #expect(try otherDB.read([(Self.user, "u1")]) == [nil])
        #expect(Self.blobs(try good.read([(Self.user, "u1")])) == [[1]])
        do {
            _ = try OnlineStores.open(
                try OnlineStoreURL.parse("redis://:wrong-\(secret)@127.0.0.1:\(server.port)/0"), project: "p",
                entities: Self.registry.entities)
            Issue.record("a wrong password was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("authentication failed"))
            #expect(!message.contains(secret))
        }
    }

    @Test func redisComesBackAfterARestart() throws {
        let server = try RedisServer()
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse(server.url), project: "p", entities: Self.registry.entities)
        try store.write([Self.record(Self.user, "u1", 1, [1])])
        try server.restart()
        // The dropped connection and the forgotten script are both recovered from.
        #expect(throws: (any Error).self) { try store.ping() }
        try store.write([Self.record(Self.user, "u1", 2, [2])])
        #expect(Self.blobs(try store.read([(Self.user, "u1")])) == [[2]])
    }

    @Test func anUnreachableRedisIsAClearError() throws {
        let port = try RedisServer.freePort()
        #expect {
            _ = try OnlineStores.open(
                try OnlineStoreURL.parse("redis://127.0.0.1:\(port)/0"), project: "p", entities: Self.registry.entities,
                timeoutMillis: 500)
        } throws: { "\($0)".contains("127.0.0.1:\(port)") }
    }
}
