import FsmlCore

/// One aggregation operation (count, sum, distinct_count, ...) over a set of events, knowing
/// nothing of time: a window (`TiledWindow`, `SessionWindow`) decides which events reach which
/// partial, and `WindowRule` which partials a value as of t reads.
///
/// An operation is an algebra over its partial aggregate (its intermediate representation), as in
/// Chronon's aggregators: `update` adds one event, `merge` combines the partials of two disjoint
/// sets of events (so tiles, sessions and shards combine in any order), `finalize` turns a
/// partial into the feature's value, and `encode`/`decode` store it in entity state.
///
/// Adding an operation is one file: a type conforming to this protocol, listed in
/// `AggregatorCatalog`. Everything else (tiles, sessions, state bytes, slot sharing, definition
/// hashes) is generic over it. Keep the type small and free of references (fields by index, not
/// name): the engine calls it through an existential once per event and slot, and a value of at
/// most three words with nothing to retain is copied for free.
public protocol Aggregator: SlotKernel, CustomStringConvertible {
    associatedtype Partial: Sendable, Equatable

    /// The name fsml.yaml spells (`aggregation: count`).
    static var name: String { get }
    /// The keys of a feature definition it reads (`field`), beside the common ones.
    static var argumentKeys: [String] { get }
    /// Why the operation cannot run over `window`, or nil when it can.
    static func refusal(of window: WindowSpec) -> String?

    /// Reads the operation's arguments from a feature definition.
    init(arguments: inout AggregatorArguments) throws(ArgumentError)

    /// Identifies the operation and its arguments: two features whose aggregates have equal
    /// identities, filters and windows share one slot of state. Part of the state's fingerprint,
    /// so it never changes for an existing operation.
    var identity: String { get }
    /// Its arguments as fsml.yaml spells them (`field: price`), in a fixed order: part of the
    /// feature's canonical definition (definition hashes) and of what `fsml features` prints.
    func arguments(in schema: EventSchema) -> [(key: String, value: String)]
    /// The event fields `update` reads.
    var fieldsRead: Set<Int> { get }

    /// The partial of no events: merge's identity, and what every new tile starts from.
    var empty: Partial { get }
    func update(_ partial: inout Partial, with event: Event)
    /// Combines two partials of disjoint sets of events: commutative and associative.
    func merge(_ partial: inout Partial, with other: Partial)
    /// The feature value of a partial; NaN when the value is missing.
    func finalize(_ partial: Partial) -> Double
    func encode(_ partial: Partial, to writer: inout StateWriter)
    func decode(from reader: inout StateReader) throws(StateDecodeError) -> Partial
    /// Whether a tiled window writes every tile of this operation, empty or not (state format 1
    /// did so for distinct counts); otherwise only the tiles that are not empty.
    static var writesEveryTile: Bool { get }
}

extension Aggregator {
    public var name: String { Self.name }
    public static var argumentKeys: [String] { [] }
    public static func refusal(of window: WindowSpec) -> String? { nil }
    public static var writesEveryTile: Bool { false }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] { [] }
    public var fieldsRead: Set<Int> { [] }
    public var description: String { identity }

    /// `sum(price)`: the name, and the argument values in parentheses when there are any.
    public func summary(in schema: EventSchema) -> String {
        let values = arguments(in: schema).map(\.value)
        return values.isEmpty ? Self.name : "\(Self.name)(\(values.joined(separator: ", ")))"
    }
}
