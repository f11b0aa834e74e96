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
public protocol Aggregator: PartialAlgebra, SlotKernel, CustomStringConvertible {
    /// The name fsml.yaml spells (`aggregation: count`).
    static var name: String { get }
    /// The keys of a feature definition it reads (`field`), beside the common ones.
    static var argumentKeys: [String] { get }
    /// Why the operation cannot run over `window`, or nil when it can.
    static func refusal(of window: WindowSpec) -> String?

    /// Reads the operation's arguments from a feature definition.
    init(arguments: inout AggregatorArguments) throws(ArgumentError)

    /// Identifies the operation and all its arguments: two features compute the same values when
    /// their identities, filters and windows are equal.
    var identity: String { get }
    /// Identifies what the partial holds: features whose state identities, filters and windows are
    /// equal share one slot, and each finalizes it its own way (`stddev` and `variance` of a field
    /// read one set of power sums; the 50th and 95th percentiles one sketch). Equal state
    /// identities imply the same `Partial` type. Part of the state's fingerprint, so it never
    /// changes for an existing operation. By default the identity.
    var stateIdentity: String { get }
    /// Its arguments as fsml.yaml spells them (`field: amount`), in a fixed order: part of the
    /// feature's canonical definition (definition hashes) and of what `fsml features` prints.
    func arguments(in schema: EventSchema) -> [(key: String, value: String)]
    /// The event fields `update` reads.
    var fieldsRead: Set<Int> { get }

    /// The feature value of a partial; NaN when the value is missing.
    func finalize(_ partial: Partial) -> Double
    /// The value as of t, for operations whose value depends on when it is read
    /// (`time_since_last`); by default `finalize(partial)`.
    func finalize(_ partial: Partial, asOf t: Micros) -> Double

    /// The features one definition yields, in column order: itself, or one per element of a
    /// list-valued result (`last_k` with k: 3 gives three), each finalizing the shared partial
    /// into one number and named with its `outputSuffix`.
    var outputs: [any Aggregator] { get }
    /// Appended to the feature's name for this output (`_1`); empty for a single output.
    var outputSuffix: String { get }

    /// For a decayed window: what one event adds before its weight (1 for a count, the value for
    /// a sum); nil for operations that a decayed window cannot weight.
    func decayTerm(_ event: Event) -> Double?
    /// Whether `decayTerm` answers.
    static var decays: Bool { get }
}

extension Aggregator {
    public var name: String { Self.name }
    public static var argumentKeys: [String] { [] }
    public static func refusal(of window: WindowSpec) -> String? { nil }
    public var stateIdentity: String { identity }
    public func finalize(_ partial: Partial, asOf t: Micros) -> Double { finalize(partial) }
    public var outputs: [any Aggregator] { [self] }
    public var outputSuffix: String { "" }
    public func decayTerm(_ event: Event) -> Double? { nil }
    public static var decays: Bool { false }

    /// Why the operation cannot run over `window` (its own refusal, or a decayed window it cannot
    /// weight), or nil when it can.
    public static func refusal(ofWindow window: WindowSpec) -> String? {
        if case .decayed = window, !decays {
            return "a decayed window weights count and sum only, not \(name)"
        }
        return refusal(of: window)
    }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] { [] }
    public var fieldsRead: Set<Int> { [] }
    public var description: String { identity }

    /// `sum(amount)`: the name, and the argument values in parentheses when there are any.
    public func summary(in schema: EventSchema) -> String {
        let values = arguments(in: schema).map(\.value)
        return values.isEmpty ? Self.name : "\(Self.name)(\(values.joined(separator: ", ")))"
    }
}

/// What a window needs of the partials it keeps: an algebra over one partial aggregate. Every
/// aggregator is one; a decayed window keeps its weighted sums through one too.
public protocol PartialAlgebra: Sendable {
    associatedtype Partial: Sendable, Equatable

    /// The partial of no events: merge's identity, and what every new tile starts from.
    var empty: Partial { get }
    func update(_ partial: inout Partial, with event: Event)
    /// Combines two partials of disjoint sets of events: commutative and associative.
    func merge(_ partial: inout Partial, with other: Partial)
    func encode(_ partial: Partial, to writer: inout StateWriter)
    func decode(from reader: inout StateReader) throws(StateDecodeError) -> Partial
    /// Whether a tiled window writes every tile of this operation, empty or not (state format 1
    /// did so for distinct counts); otherwise only the tiles that are not empty.
    static var writesEveryTile: Bool { get }
}

extension PartialAlgebra {
    public static var writesEveryTile: Bool { false }
}
