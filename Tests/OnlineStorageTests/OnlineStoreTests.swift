import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

@testable import OnlineStorage

/// One behavioural suite for every online store: a real redis-server on a free loopback port, a
/// real Redis Cluster (3 masters, 3 replicas; one for the test process, a project per store), an
/// SQLite file, and this process's memory.
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
        case "cluster":
            let store = try OnlineStores.open(
                try OnlineStoreURL.parse(try RedisCluster.shared().url), project: "\(project)-\(UUID().uuidString)",
                entities: registry.entities)
            return (store, nil)
        case "memory":
            return (MemoryOnlineStore(entities: registry.entities), nil)
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

    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
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

    /// More keys than one call of the Redis write script takes, with repeats (the latest wins).
    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
    func aLargeWriteKeepsTheLatestOfEveryKey(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        var records: [StateRecord] = []
        var expected: [String: (Micros, [UInt8])] = [:]
        for i in 0..<700 {
            let key = "k\(i % 600)-ö"
            let time = Micros(1_000 + (i * 7919) % 1_000)
            // A plausible state starts with the format version (`StoredValue.isPlausible`).
            let blob = [StateCodec.version] + [UInt8](repeating: UInt8(i % 251), count: i % 40)
            records.append(Self.record(Self.user, key, time, blob))
            if let (t, _) = expected[key], t > time { continue }
            expected[key] = (time, blob)
        }
        try store.write(records)
        let keys = expected.keys.sorted()
        let values = try store.read(keys.map { (Self.user, $0) })
        #expect(values.map { $0.flatMap(StoredValue.lastTime) } == keys.map { expected[$0]!.0 })
        #expect(Self.blobs(values) == keys.map { expected[$0]!.1 })
    }

    /// The stream job's packed batches are the same writes as records, repeats and order included.
    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
    func aPackedWriteIsTheSameAsItsRecords(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        var records: [StateRecord] = []
        for i in 0..<600 {
            let blob = [StateCodec.version] + [UInt8](repeating: UInt8(i % 251), count: i % 30)
            records.append(Self.record(i % 3, "k\(i % 450)-é", Micros(5_000 - (i * 31) % 900), blob))
        }
        let packed = PackedStates(records)
        #expect(packed.count == records.count && packed.records() == records)
        try store.write(packed: packed)
        let keys = (0..<450).flatMap { k in (0..<3).map { (entity: $0, key: "k\(k)-é") } }
        let viaPacked = try store.read(keys)
        let (other, otherServer) = try Self.make(kind, project: "records")
        _ = otherServer
        try other.write(records)
        #expect(try other.read(keys) == viaPacked)
        #expect(viaPacked.contains { $0 != nil })
    }

    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
    func aWriteNeverReplacesANewerState(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        // (States start with the state format version, 1: anything else is not a state.)
        try store.write([Self.record(Self.user, "u1", 1_000, [1, 1])])
        try store.write([Self.record(Self.user, "u1", 999, [1, 2])])
        #expect(Self.blobs(try store.read([(Self.user, "u1")])) == [[1, 1]])
        // The same event time replaces: an out-of-order event within the lateness changes the
        // state without moving its latest time.
        try store.write([Self.record(Self.user, "u1", 1_000, [1, 3])])
        #expect(Self.blobs(try store.read([(Self.user, "u1")])) == [[1, 3]])
        // Within one batch, the latest state of a key wins whatever its place.
        try store.write([Self.record(Self.user, "u2", 2_000, [1, 4]), Self.record(Self.user, "u2", 1_500, [1, 5])])
        #expect(Self.blobs(try store.read([(Self.user, "u2")])) == [[1, 4]])
        // Negative times (before 1970) order correctly too.
        try store.write([Self.record(Self.user, "old", -5_000, [1, 6])])
        try store.write([Self.record(Self.user, "old", -6_000, [1, 7])])
        #expect(Self.blobs(try store.read([(Self.user, "old")])) == [[1, 6]])
    }

    /// A stored value that cannot be a state (a time beyond any event, or not a state format
    /// version) never wins event-time-wins: the next write replaces it, whatever its time.
    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
    func aCorruptStoredValueIsReplacedByTheNextWrite(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        try store.write([Self.record(Self.user, "far", Micros.max, [1, 1])])
        try store.write([Self.record(Self.user, "far", 1_000, [1, 2])])
        #expect(Self.blobs(try store.read([(Self.user, "far")])) == [[1, 2]])
        try store.write([Self.record(Self.user, "garbled", 5_000, [0xff, 0xff])])
        try store.write([Self.record(Self.user, "garbled", 1_000, [1, 3])])
        #expect(Self.blobs(try store.read([(Self.user, "garbled")])) == [[1, 3]])
        // The value a test of eight 0xff bytes leaves in Redis, set behind the store's back.
        if let server {
            let raw = RedisConnection(host: "127.0.0.1", port: server.port, db: 0, password: nil, timeoutMillis: 1000)
            _ = try raw.roundTripBytes([
                [Array("SET".utf8), Array("test:user:ff".utf8), [UInt8](repeating: 0xff, count: 12)]
            ])
            try store.write([Self.record(Self.user, "ff", 1_000, [1, 4])])
            #expect(Self.blobs(try store.read([(Self.user, "ff")])) == [[1, 4]])
        }
    }

    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
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

    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
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

    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
    func theClockIsWhatWasLastWritten(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        #expect(try store.readClock() == nil)
        try store.writeClock(1_700_000_000_000_000)
        #expect(try store.readClock() == 1_700_000_000_000_000)
        try store.writeClock(-5)
        #expect(try store.readClock() == -5)
        // A clock beyond any event time (corrupt) reads as none, never as a time to add to.
        try store.writeClock(.max)
        #expect(try store.readClock() == nil)
        try store.ping()
        #expect(!store.description.isEmpty)
    }

    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
    func markersAreReadBackPerName(kind: String) throws {
        let (store, server) = try Self.make(kind)
        #expect(try store.readMarker("job-a") == nil)
        try store.writeMarker("job-a", token: "t1")
        try store.writeMarker("job-b", token: "t2")
        try store.writeMarker("job-a", token: "t3")
        #expect(try store.readMarker("job-a") == "t3" && store.readMarker("job-b") == "t2")
        // A Redis restarted without persistence has lost them: that is what they are for.
        if let server {
            try server.restart()
            #expect(try store.readMarker("job-a") == nil)
        }
    }

    /// Expiry is each store's own (Redis keys carry the entity's TTL; the others drop rows), but a
    /// state within its TTL of the watermark is never dropped by any.
    @Test(arguments: ["redis", "cluster", "sqlite", "memory"])
    func expiryKeepsWhatIsWithinItsTTL(kind: String) throws {
        let (store, server) = try Self.make(kind)
        _ = server
        let hour = Timestamp.microsPerHour
        let now = 1_000 * hour
        try store.write([
            Self.record(Self.session, "fresh", now - 2 * hour, [1]), Self.record(Self.user, "u", now - 300 * hour, [3]),
        ])
        try store.expire(watermark: now, entities: [Self.session])
        #expect(Self.blobs(try store.read([(Self.session, "fresh"), (Self.user, "u")])) == [[1], [3]])
    }
}
