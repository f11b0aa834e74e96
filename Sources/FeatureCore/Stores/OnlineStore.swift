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
    /// `write(_:)` for states packed in one buffer (the stream job's micro-batches).
    func write(packed: PackedStates) throws
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
    /// A writer's marker: a token it left in the store, read back to tell when the store lost
    /// its data (a Redis restarted without persistence). nil when there is none.
    func readMarker(_ name: String) throws -> String?
    func writeMarker(_ name: String, token: String) throws
    /// Whether the store answers.
    func ping() throws
    /// The store's address with no secret in it.
    var description: String { get }
    /// Whether one instance serves reads from many threads at once (memory); a connection to a
    /// server serves one request at a time.
    var readsConcurrently: Bool { get }
}

extension OnlineStore {
    public var readsConcurrently: Bool { false }
    public func write(packed: PackedStates) throws { try write(packed.records()) }
}

public struct OnlineStoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
