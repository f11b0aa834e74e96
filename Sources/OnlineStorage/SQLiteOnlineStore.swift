import CSQLite3
import FeatureCore
import Foundation
import FsmlCore

/// Entity states in an embedded SQLite file: one table per entity kind (key, ts, state), WAL
/// journal, each batch of writes one transaction of upserts that keep a row with a later ts.
/// No server. Thread-safe (one connection, used under a lock).
public final class SQLiteOnlineStore: OnlineStore, @unchecked Sendable {
    public let path: String
    let entities: [EntitySpec]
    private var db: OpaquePointer?
    private let lock = NSLockLite()
    private var upserts: [OpaquePointer?] = []
    static let keysPerQuery = 500
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    public init(path: String, entities: [EntitySpec]) throws {
        self.path = path
        self.entities = entities
        try FileSystem.createDirectories(forFile: path)
        guard
            sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
                == SQLITE_OK
        else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw OnlineStoreError("sqlite:\(path): \(message)")
        }
        sqlite3_busy_timeout(db, 5000)
        try exec("PRAGMA journal_mode=WAL")
        try exec("PRAGMA synchronous=NORMAL")
        try exec("CREATE TABLE IF NOT EXISTS _fsml_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        try exec("CREATE TABLE IF NOT EXISTS _fsml_markers (name TEXT PRIMARY KEY, token TEXT NOT NULL)")
        for e in entities {
            try exec(
                "CREATE TABLE IF NOT EXISTS \"\(e.name)\" (key TEXT PRIMARY KEY, ts INTEGER NOT NULL, state BLOB NOT NULL) WITHOUT ROWID"
            )
            var stmt: OpaquePointer?
            let sql =
                "INSERT INTO \"\(e.name)\"(key, ts, state) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET ts = excluded.ts, state = excluded.state WHERE excluded.ts >= \"\(e.name)\".ts OR abs(\"\(e.name)\".ts) >= \(StoredValue.timeBound) OR substr(\"\(e.name)\".state, 1, 1) != x'0\(StateCodec.version)'"
            guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else { throw error("preparing the upsert") }
            upserts.append(stmt)
        }
    }

    deinit {
        for s in upserts { sqlite3_finalize(s) }
        sqlite3_close(db)
    }

    public var description: String { "sqlite:\(path)" }

    private func error(_ doing: String) -> OnlineStoreError {
        OnlineStoreError("sqlite:\(path): \(doing): \(String(cString: sqlite3_errmsg(db)))")
    }

    private func exec(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw error(sql) }
    }

    public func ping() throws {
        try lock.withLock { try exec("SELECT 1") }
    }

    public func write(_ records: [StateRecord]) throws {
        guard !records.isEmpty else { return }
        try lock.withLock {
            try exec("BEGIN IMMEDIATE")
            do {
                for r in records {
                    let stmt = upserts[r.entity]
                    sqlite3_reset(stmt)
                    sqlite3_bind_text(stmt, 1, r.key, -1, Self.transient)
                    sqlite3_bind_int64(stmt, 2, r.lastTime)
                    _ = r.blob.withUnsafeBytes {
                        sqlite3_bind_blob(stmt, 3, $0.baseAddress, Int32($0.count), Self.transient)
                    }
                    guard sqlite3_step(stmt) == SQLITE_DONE else {
                        throw error("writing \(entities[r.entity].name) \(r.key)")
                    }
                }
                try exec("COMMIT")
            } catch {
                _ = try? exec("ROLLBACK")
                throw error
            }
        }
    }

    public func keys(entity: Int) throws -> [String] {
        try lock.withLock {
            var stmt: OpaquePointer?
            guard
                sqlite3_prepare_v2(db, "SELECT key FROM \"\(entities[entity].name)\" ORDER BY key", -1, &stmt, nil)
                    == SQLITE_OK
            else {
                throw error("listing keys")
            }
            defer { sqlite3_finalize(stmt) }
            var out: [String] = []
            while sqlite3_step(stmt) == SQLITE_ROW { out.append(String(cString: sqlite3_column_text(stmt, 0))) }
            return out
        }
    }

    public func writeClock(_ t: Micros) throws {
        try lock.withLock {
            try exec(
                "INSERT INTO _fsml_meta(name, value) VALUES ('clock', \(t)) ON CONFLICT(name) DO UPDATE SET value = excluded.value"
            )
        }
    }

    public func readClock() throws -> Micros? {
        try lock.withLock {
            var stmt: OpaquePointer?
            guard
                sqlite3_prepare_v2(db, "SELECT value FROM _fsml_meta WHERE name = 'clock'", -1, &stmt, nil) == SQLITE_OK
            else { throw error("reading the clock") }
            defer { sqlite3_finalize(stmt) }
            return sqlite3_step(stmt) == SQLITE_ROW ? StoredValue.plausibleClock(sqlite3_column_int64(stmt, 0)) : nil
        }
    }

    public func readMarker(_ name: String) throws -> String? {
        try lock.withLock {
            var stmt: OpaquePointer?
            guard sqlite3_prepare_v2(db, "SELECT token FROM _fsml_markers WHERE name = ?", -1, &stmt, nil) == SQLITE_OK
            else { throw error("reading a marker") }
            defer { sqlite3_finalize(stmt) }
            sqlite3_bind_text(stmt, 1, name, -1, Self.transient)
            return sqlite3_step(stmt) == SQLITE_ROW ? String(cString: sqlite3_column_text(stmt, 0)) : nil
        }
    }

    public func writeMarker(_ name: String, token: String) throws {
        try lock.withLock {
            var stmt: OpaquePointer?
            guard
                sqlite3_prepare_v2(
                    db,
                    "INSERT INTO _fsml_markers(name, token) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET token = excluded.token",
                    -1, &stmt, nil) == SQLITE_OK
            else { throw error("writing a marker") }
            defer { sqlite3_finalize(stmt) }
            sqlite3_bind_text(stmt, 1, name, -1, Self.transient)
            sqlite3_bind_text(stmt, 2, token, -1, Self.transient)
            guard sqlite3_step(stmt) == SQLITE_DONE else { throw error("writing a marker") }
        }
    }

    public func expire(watermark: Micros, entities kinds: [Int]) throws {
        guard watermark != .min else { return }
        try lock.withLock {
            for e in kinds.map({ entities[$0] }) {
                try exec("DELETE FROM \"\(e.name)\" WHERE ts < \(watermark - e.ttl)")
            }
        }
    }

    public func read(_ keys: [(entity: Int, key: String)]) throws -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        return try lock.withLock {
            var out = [[UInt8]?](repeating: nil, count: keys.count)
            // One query per entity kind present in the request, in chunks that stay below SQLite's
            // limit on bound parameters.
            let byEntity = Dictionary(grouping: keys.indices, by: { keys[$0].entity })
            for (entity, all) in byEntity {
                for chunkStart in stride(from: 0, to: all.count, by: Self.keysPerQuery) {
                    let indexes = all[chunkStart..<min(chunkStart + Self.keysPerQuery, all.count)]
                    let placeholders = Array(repeating: "?", count: indexes.count).joined(separator: ",")
                    var stmt: OpaquePointer?
                    guard
                        sqlite3_prepare_v2(
                            db,
                            "SELECT key, ts, state FROM \"\(entities[entity].name)\" WHERE key IN (\(placeholders))",
                            -1, &stmt, nil) == SQLITE_OK
                    else {
                        throw error("preparing a read")
                    }
                    defer { sqlite3_finalize(stmt) }
                    for (k, i) in indexes.enumerated() {
                        sqlite3_bind_text(stmt, Int32(k + 1), keys[i].key, -1, Self.transient)
                    }
                    var found: [String: [UInt8]] = [:]
                    while true {
                        let rc = sqlite3_step(stmt)
                        if rc == SQLITE_DONE { break }
                        guard rc == SQLITE_ROW else { throw error("reading") }
                        let key = String(cString: sqlite3_column_text(stmt, 0))
                        let ts = sqlite3_column_int64(stmt, 1)
                        let n = Int(sqlite3_column_bytes(stmt, 2))
                        let blob =
                            n > 0 ? Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, 2), count: n)) : []
                        found[key] = StoredValue.encode(lastTime: ts, blob: blob)
                    }
                    for i in indexes { out[i] = found[keys[i].key] }
                }
            }
            return out
        }
    }
}
