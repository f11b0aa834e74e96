import FsmlCore

/// An entity: the thing features describe, found in each event by its key fields.
public struct EntitySpec: Sendable, Equatable {
    public var name: String
    /// Schema field indexes whose values, joined, are the entity key.
    public var keyFields: [Int]
    /// An entity not updated for longer than this reads as missing.
    public var ttl: Micros
}

/// How events are gathered for a feature.
public enum WindowSpec: Sendable, Equatable {
    /// Events in the sliding window ending at the as-of time, kept in tiles of `hop`.
    case sliding(window: Micros, hop: Micros)
    /// Every event of the entity's life (for the session entity: the session).
    case session
}

/// What a feature computes over the events of its window that pass its filter.
public enum Aggregation: Sendable, Equatable {
    case count
    case sum(field: Int)
    case distinctCount(field: Int)
    /// The value of one feature divided by another of the same entity; missing when the
    /// denominator is 0.
    case ratio(numerator: Int, denominator: Int)
    /// The field's value on the earliest (first) or latest (last) event; session-scoped.
    case first(field: Int)
    case last(field: Int)
    /// Seconds between the earliest and the latest event; session-scoped.
    case duration

    public var name: String {
        switch self {
        case .count: return "count"
        case .sum: return "sum"
        case .distinctCount: return "distinct_count"
        case .ratio: return "ratio"
        case .first: return "first"
        case .last: return "last"
        case .duration: return "duration"
        }
    }
}

public struct FeatureSpec: Sendable, Equatable {
    public var name: String
    public var entity: Int
    public var aggregation: Aggregation
    public var filter: Filter?
    /// nil for ratios, which take their operands' windows.
    public var window: WindowSpec?
    public var description: String?
    /// The feature view that serves it; nil for helper features (ratio operands) that no model sees.
    public var view: String?
    /// Where the definition starts in fsml.yaml.
    public var line: Int
}

public struct FeatureView: Sendable, Equatable {
    public var name: String
    public var entity: Int
    public var features: [Int]
}

/// How training examples and their labels come from events. Reference: each page_view is an
/// example, labelled 1 when the same user adds the same product to the cart within 30 minutes.
public struct LabelSpec: Sendable, Equatable {
    public var name: String
    /// Events that make examples.
    public var example: Filter
    /// Events that make an example positive.
    public var outcome: Filter
    /// Fields that must be equal on the example and the outcome event.
    public var same: [Int]
    /// The outcome must come within this time after the example: (t, t + within].
    public var within: Micros
}

public struct StoreSpec: Sendable, Equatable {
    /// `redis://[:password@]host:port/db` or `sqlite:PATH`.
    public var online: String
    /// A directory.
    public var offline: String
}
