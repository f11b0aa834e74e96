import FsmlCore

/// One entity's state as the online store holds it.
public struct StateRecord: Sendable, Equatable {
    public var entity: Int
    public var key: String
    /// The state's latest event time: a write never replaces a state with a later one.
    public var lastTime: Micros
    public var blob: [UInt8]

    public init(entity: Int, key: String, lastTime: Micros, blob: [UInt8]) {
        self.entity = entity
        self.key = key
        self.lastTime = lastTime
        self.blob = blob
    }
}

/// Where the stream job writes entity states and the server reads them: Redis or SQLite, behind
/// one interface. Writes are event-time-wins: a state never replaces one with a later latest event
/// (Feast's rule), also within one batch.
public protocol OnlineStore: AnyObject, Sendable {
    func write(_ records: [StateRecord]) throws
    /// States for many keys in one round trip, in order; nil where there is none.
    func read(_ keys: [(entity: Int, key: String)]) throws -> [[UInt8]?]
    /// Every key of an entity kind the store holds (for checks and exports; not for serving).
    func keys(entity: Int) throws -> [String]
    /// Drops the states of these entity kinds that expired before `watermark` (event time). Redis
    /// needs nothing: its keys carry the entity's TTL.
    func expire(watermark: Micros, entities: [Int]) throws
    /// Records the writer's event-time clock (the latest admitted event time): the server's "now"
    /// when it serves replayed history.
    func writeClock(_ t: Micros) throws
    func readClock() throws -> Micros?
    /// Whether the store answers.
    func ping() throws
    /// The store's address with no secret in it.
    var description: String { get }
}

public struct OnlineStoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The bytes stored per key: an 8-byte prefix that sorts like the event time (big-endian, sign bit
/// flipped), then the state. Comparing prefixes bytewise compares times, which is all the Redis
/// script needs.
public enum StoredValue {
    public static func encode(lastTime: Micros, blob: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(8 + blob.count)
        let ordered = UInt64(bitPattern: lastTime) ^ (1 << 63)
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: ordered >> UInt64(shift)))
        }
        out.append(contentsOf: blob)
        return out
    }

    /// The state blob of a stored value (nil when it is too short to be one).
    public static func blob(_ value: [UInt8]) -> [UInt8]? { value.count >= 8 ? Array(value[8...]) : nil }

    public static func lastTime(_ value: [UInt8]) -> Micros? {
        guard value.count >= 8 else { return nil }
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(value[k]) }
        return Micros(bitPattern: v ^ (1 << 63))
    }

    /// Keeps, per key, only the record with the latest event time (the last one on ties).
    public static func latestPerKey(_ records: [StateRecord]) -> [StateRecord] {
        var best: [String: Int] = [:]
        var out: [StateRecord] = []
        for r in records {
            let k = "\(r.entity)\u{1F}\(r.key)"
            if let i = best[k] {
                if r.lastTime >= out[i].lastTime { out[i] = r }
            } else {
                best[k] = out.count
                out.append(r)
            }
        }
        return out
    }
}

public enum OnlineStores {
    /// Opens the store a URL names. `timeoutMillis` bounds connecting and each reply.
    public static func open(
        _ url: OnlineStoreURL, project: String, entities: [EntitySpec], timeoutMillis: Int = 1000
    ) throws -> any OnlineStore {
        switch url {
        case .redis(let host, let port, let db, let password):
            return try RedisOnlineStore(
                host: host, port: port, db: db, password: password, project: project, entities: entities,
                timeoutMillis: timeoutMillis)
        case .sqlite(let path):
            return try SQLiteOnlineStore(path: path, entities: entities)
        }
    }
}
