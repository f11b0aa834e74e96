import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

@testable import OnlineStorage

/// What only the SQLite store does: dropping expired rows, a file that outlives the process.
@Suite struct SQLiteOnlineStoreTests {
    static let registry = OnlineStoreTests.registry
    static let user = OnlineStoreTests.user
    static let session = OnlineStoreTests.session
    static func record(_ entity: Int, _ key: String, _ time: Micros, _ blob: [UInt8]) -> StateRecord {
        OnlineStoreTests.record(entity, key, time, blob)
    }
    static func blobs(_ values: [[UInt8]?]) -> [[UInt8]?] { OnlineStoreTests.blobs(values) }

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
}
