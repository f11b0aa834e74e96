import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

@testable import FeatureStore

/// One behavioural suite for every online store: a real redis-server on a free loopback port, and
/// an SQLite file.
@Suite struct OnlineStoreTests {
    static let registry = EventFactory.referenceRegistry()
    static let user = 0
    static let product = 1
    static let session = 2

    /// A store of the given kind; the Redis server lives as long as the returned handle.
    static func make(_ kind: String, project: String = "test") throws -> (store: any OnlineStore, server: RedisServer?)
    {
        switch kind {
        case "redis":
            let server = try RedisServer()
            let store = try OnlineStores.open(
                try OnlineStoreURL.parse(server.url), project: project, entities: registry.entities)
            return (store, server)
        default:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "fsml-online-\(UUID().uuidString).db"
            ).path
            return (try OnlineStores.open(.sqlite(path: path), project: project, entities: registry.entities), nil)
        }
    }

    static func record(_ entity: Int, _ key: String, _ time: Micros, _ blob: [UInt8]) -> StateRecord {
        StateRecord(entity: entity, key: key, lastTime: time, blob: blob)
    }

    static func blobs(_ values: [[UInt8]?]) -> [[UInt8]?] { values.map { $0.flatMap(StoredValue.blob) } }

    @Test(arguments: ["redis", "sqlite"])
    func writesAndReadsManyKeysInOrder(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        try store.write([
            Self.record(Self.user, "u1", 100, [1, 2, 3]), Self.record(Self.product, "p1", 50, [9]),
            Self.record(Self.session, "u1\u{1F}s1", 70, []),
        ])
        let values = try store.read([
            (Self.product, "p1"), (Self.user, "u2"), (Self.user, "u1"), (Self.session, "u1\u{1F}s1"),
            (Self.product, "u1"),
        ])
        #expect(Self.blobs(values) == [[9], nil, [1, 2, 3], [], nil])
        #expect(values.map { $0.flatMap(StoredValue.lastTime) } == [50, nil, 100, 70, nil])
        #expect(try store.read([]).isEmpty)
    }

    @Test(arguments: ["redis", "sqlite"])
    func aWriteNeverReplacesANewerState(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        try store.write([Self.record(Self.user, "u1", 1_000, [1])])
        try store.write([Self.record(Self.user, "u1", 999, [2])])
        #expect(Self.blobs(try store.read([(Self.user, "u1")])) == [[1]])
        // The same event time replaces: an out-of-order event within the lateness changes the
        // state without moving its latest time.
        try store.write([Self.record(Self.user, "u1", 1_000, [3])])
        #expect(Self.blobs(try store.read([(Self.user, "u1")])) == [[3]])
        // Within one batch, the latest state of a key wins whatever its place.
        try store.write([Self.record(Self.user, "u2", 2_000, [4]), Self.record(Self.user, "u2", 1_500, [5])])
        #expect(Self.blobs(try store.read([(Self.user, "u2")])) == [[4]])
        // Negative times (before 1970) order correctly too.
        try store.write([Self.record(Self.user, "old", -5_000, [6])])
        try store.write([Self.record(Self.user, "old", -6_000, [7])])
        #expect(Self.blobs(try store.read([(Self.user, "old")])) == [[6]])
    }

    @Test(arguments: ["redis", "sqlite"])
    func thousandsOfKeysInOneWriteAndOneRead(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        var records: [StateRecord] = []
        for i in 0..<1_300 {
            records.append(
                Self.record(i % 2 == 0 ? Self.user : Self.product, "k\(i)", Micros(i), Array("state-\(i)".utf8)))
        }
        try store.write(records)
        let keys = records.map { (entity: $0.entity, key: $0.key) }
        #expect(Self.blobs(try store.read(keys)) == records.map { $0.blob })
    }

    @Test(arguments: ["redis", "sqlite"])
    func listsTheKeysOfOneEntityKind(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        try store.write([
            Self.record(Self.user, "u1", 1, [1]), Self.record(Self.user, "a*b?[c]", 1, [2]),
            Self.record(Self.product, "u1", 1, [3]), Self.record(Self.session, "u1\u{1F}s1", 1, [4]),
        ])
        #expect(try store.keys(entity: Self.user).sorted() == ["a*b?[c]", "u1"])
        #expect(try store.keys(entity: Self.product) == ["u1"])
        #expect(try store.keys(entity: Self.session) == ["u1\u{1F}s1"])
    }

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

    @Test func sqliteDropsExpiredStatesOfTheNamedKindsOnly() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-online-\(UUID().uuidString).db")
            .path
        let store = try SQLiteOnlineStore(path: path, entities: Self.registry.entities)
        let hour = Timestamp.microsPerHour
        let now = 1_000 * hour
        try store.write([
            Self.record(Self.session, "fresh", now - 2 * hour, [1]),  // exactly the TTL: kept
            Self.record(Self.session, "stale", now - 2 * hour - 1, [2]),
            Self.record(Self.user, "stale-user", now - 300 * hour, [3]),
        ])
        try store.expire(watermark: now, entities: [Self.session])
        #expect(
            Self.blobs(try store.read([(Self.session, "fresh"), (Self.session, "stale"), (Self.user, "stale-user")]))
                == [[1], nil, [3]])
        // Reopening finds the same rows: the file is the store.
        let again = try SQLiteOnlineStore(path: path, entities: Self.registry.entities)
        #expect(Self.blobs(try again.read([(Self.session, "fresh")])) == [[1]])
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

    @Test func anUnreachableRedisIsAClearErrorWithinTheTimeout() throws {
        let port = try RedisServer.freePort()
        let started = monotonicNanos()
        #expect {
            _ = try OnlineStores.open(
                try OnlineStoreURL.parse("redis://127.0.0.1:\(port)/0"), project: "p", entities: Self.registry.entities,
                timeoutMillis: 500)
        } throws: { "\($0)".contains("127.0.0.1:\(port)") }
        #expect(monotonicNanos() - started < 5_000_000_000)
    }
}
