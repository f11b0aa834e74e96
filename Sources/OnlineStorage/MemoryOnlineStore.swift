import FeatureCore
import FsmlCore

/// Entity states in this process's memory, with the same rules as the other stores (event time
/// wins, stored values with their time prefix). `fsml serve --stream` has the stream job write here
/// as well as to Redis, and answers requests from here: no network hop, and the same bytes and
/// decoding as a read from Redis, so both paths give the same answer.
public final class MemoryOnlineStore: OnlineStore, @unchecked Sendable {
    /// An entity key with its hash, computed once (outside the lock on reads): a probe of the
    /// table compares hashes before texts, so a lookup compares one key's bytes, not one per
    /// occupied bucket on its probe sequence (pair and session keys are too long for Swift's
    /// inline strings, and each comparison of them was a memcmp).
    struct Key: Hashable {
        let text: String
        let hash: Int

        init(_ text: String) {
            self.text = text
            hash = text.hashValue
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        static func == (a: Key, b: Key) -> Bool { a.hash == b.hash && a.text == b.text }
    }

    private let lock = NSLockLite()
    private var tables: [[Key: [UInt8]]]
    private var clock: Micros?
    private var markers: [String: String] = [:]
    private let entities: [EntitySpec]

    public init(entities: [EntitySpec]) {
        self.entities = entities
        tables = Array(repeating: [:], count: entities.count)
    }

    public var description: String { "memory" }
    public var readsConcurrently: Bool { true }

    public func write(_ records: [StateRecord]) throws {
        lock.withLock {
            for r in records {
                let key = Key(r.key)
                if let current = tables[r.entity][key],
                    StoredValue.isPlausible(current, stateVersion: StateCodec.version),
                    let t = StoredValue.lastTime(current), t > r.lastTime
                {
                    continue
                }
                tables[r.entity][key] = StoredValue.encode(lastTime: r.lastTime, blob: r.blob)
            }
        }
    }

    public func read(_ keys: [(entity: Int, key: String)]) throws -> [[UInt8]?] {
        let wanted = keys.map { (entity: $0.entity, key: Key($0.key)) }
        return lock.withLock { wanted.map { tables[$0.entity][$0.key] } }
    }

    public func keys(entity: Int) throws -> [String] { lock.withLock { tables[entity].keys.map(\.text) } }

    public func expire(watermark: Micros, entities kinds: [Int]) throws {
        guard watermark != .min else { return }
        lock.withLock {
            for e in kinds {
                let cutoff = watermark - entities[e].ttl
                tables[e] = tables[e].filter { (StoredValue.lastTime($0.value) ?? .min) >= cutoff }
            }
        }
    }

    public func writeClock(_ t: Micros) throws { lock.withLock { clock = t } }
    public func readClock() throws -> Micros? { lock.withLock { clock.flatMap(StoredValue.plausibleClock) } }
    public func readMarker(_ name: String) throws -> String? { lock.withLock { markers[name] } }
    public func writeMarker(_ name: String, token: String) throws { lock.withLock { markers[name] = token } }
    public func ping() throws {}
    public var count: Int { lock.withLock { tables.reduce(0) { $0 + $1.count } } }
}

/// Writes go to a primary store and to a memory mirror; reads come from the mirror. The mirror is
/// written after the primary, so it never holds what the primary lacks.
public final class MirroredOnlineStore: OnlineStore, @unchecked Sendable {
    public let primary: (any OnlineStore)?
    public let mirror: MemoryOnlineStore

    public init(primary: (any OnlineStore)?, mirror: MemoryOnlineStore) {
        self.primary = primary
        self.mirror = mirror
    }

    public var description: String { primary.map { "\($0.description) + memory" } ?? "memory" }
    public var readsConcurrently: Bool { true }

    public func write(_ records: [StateRecord]) throws {
        try primary?.write(records)
        try mirror.write(records)
    }

    public func read(_ keys: [(entity: Int, key: String)]) throws -> [[UInt8]?] { try mirror.read(keys) }
    public func keys(entity: Int) throws -> [String] { try mirror.keys(entity: entity) }

    public func expire(watermark: Micros, entities: [Int]) throws {
        try primary?.expire(watermark: watermark, entities: entities)
        try mirror.expire(watermark: watermark, entities: entities)
    }

    public func writeClock(_ t: Micros) throws {
        try primary?.writeClock(t)
        try mirror.writeClock(t)
    }

    public func readClock() throws -> Micros? { try mirror.readClock() }

    /// The primary's marker: it is the store that can lose its data.
    public func readMarker(_ name: String) throws -> String? { try (primary ?? mirror).readMarker(name) }

    public func writeMarker(_ name: String, token: String) throws {
        try primary?.writeMarker(name, token: token)
        try mirror.writeMarker(name, token: token)
    }

    public func ping() throws { try primary?.ping() }
}
