import FeatureCore
import FsmlCore
import FsmlTestSupport
import NIOCore
import NIOPosix
import OnlineStorage
import Testing

@testable import Serving

/// The server's non-blocking Redis reads against a real redis-server: the values the blocking
/// store reads, with a password and a database other than 0; a stopped server fails the read at
/// its budget, and the next read after it is back connects again.
@Suite(.serialized) struct EventLoopRedisTests {
    static let registry = EventFactory.referenceRegistry()
    static let user = registry.entityIndex("user")!
    static let product = registry.entityIndex("product")!

    static func store(_ server: RedisServer, db: Int) throws -> RedisOnlineStore {
        let secret = server.password.map { ":\($0)@" } ?? ""
        let url = try OnlineStoreURL.parse("redis://\(secret)127.0.0.1:\(server.port)/\(db)")
        return try #require(
            try OnlineStores.open(url, project: "t", entities: registry.entities) as? RedisOnlineStore)
    }

    @Test func readsWhatTheStoreHoldsWithAPasswordAndADatabase() throws {
        let server = try RedisServer(password: "pw-\(UInt32.random(in: 0..<UInt32.max))")
        let store = try Self.store(server, db: 5)
        try store.write([
            StateRecord(entity: Self.user, key: "u1", lastTime: 10, blob: [1, 2]),
            StateRecord(entity: Self.product, key: "p:1", lastTime: 20, blob: [3]),
        ])
        let redis = EventLoopRedis(store: store, budgetMillis: 5_000)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let keys: [StoreReader.Key] = [(Self.user, "u1"), (Self.product, "p:1"), (Self.user, "nobody")]
        let values = try redis.read(keys, on: loop).wait()
        #expect(values == (try store.read(keys)))
        #expect(values.map { $0.flatMap(StoredValue.blob) } == [[1, 2], [3], nil])
        // Many reads at once on one loop share its connection and come back in order.
        let many = (0..<200).map { i in redis.read([(Self.user, i % 2 == 0 ? "u1" : "nobody")], on: loop) }
        for (i, f) in many.enumerated() { #expect(try f.wait()[0] == (i % 2 == 0 ? values[0] : nil)) }
    }

    @Test func aStoppedServerFailsTheReadAtItsBudgetAndAServerBackIsReadAgain() throws {
        let server = try RedisServer()
        let store = try Self.store(server, db: 0)
        try store.write([StateRecord(entity: Self.user, key: "u1", lastTime: 10, blob: [9])])
        // A budget no healthy read on a busy machine misses; reads that still miss it are retried.
        let redis = EventLoopRedis(store: store, budgetMillis: 2_000)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        func readBack() -> [UInt8]? {
            for _ in 0..<50 {
                if let values = try? redis.read([(Self.user, "u1")], on: loop).wait() {
                    return values[0].flatMap(StoredValue.blob)
                }
            }
            return nil
        }
        #expect(readBack() == [9])
        server.pause()
        #expect(throws: (any Error).self) { try redis.read([(Self.user, "u1")], on: loop).wait() }
        server.resume()
        // The failed read closed the connection; the next one connects again.
        let answer = readBack()
        #expect(answer == [9])
    }
}
