import FsmlCore

/// An entity: the thing features describe, found in each event by its key fields.
public struct EntitySpec: Sendable, Equatable {
    public var name: String
    /// Schema field indexes whose values, joined, are the entity key.
    public var keyFields: [Int]
    /// An entity not updated for longer than this reads as missing.
    public var ttl: Micros

    public init(name: String, keyFields: [Int], ttl: Micros) {
        self.name = name
        self.keyFields = keyFields
        self.ttl = ttl
    }
}
