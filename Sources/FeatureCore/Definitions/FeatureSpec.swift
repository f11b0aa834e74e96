/// One feature as fsml.yaml defines it: an aggregate over an entity's events, or a ratio of two
/// features of the same entity.
public struct FeatureSpec: Sendable, Equatable {
    public var name: String
    public var entity: Int
    public var kind: FeatureKind
    public var description: String?
    /// The feature view that serves it; nil for helper features (ratio operands) that no model sees.
    public var view: String?
    /// Where the definition starts in fsml.yaml.
    public var line: Int

    public init(
        name: String, entity: Int, kind: FeatureKind, description: String? = nil, view: String? = nil, line: Int = 0
    ) {
        self.name = name
        self.entity = entity
        self.kind = kind
        self.description = description
        self.view = view
        self.line = line
    }

    /// The aggregate, unless the feature is a ratio.
    public var aggregate: AggregateSpec? {
        if case .aggregate(let a) = kind { return a }
        return nil
    }

    /// The name fsml.yaml spells for what the feature computes (`count`, `sum`, `ratio`, ...).
    public var operationName: String {
        switch kind {
        case .aggregate(let a): return a.operation.name
        case .ratio: return "ratio"
        }
    }
}

public enum FeatureKind: Sendable, Equatable {
    case aggregate(AggregateSpec)
    /// The value of one feature divided by another of the same entity; missing when the
    /// denominator is 0.
    case ratio(numerator: Int, denominator: Int)
}

/// An aggregation over the events of a window that pass a filter.
public struct AggregateSpec: Sendable, Equatable {
    public var operation: any Aggregator
    public var filter: Filter?
    public var window: WindowSpec

    public init(operation: any Aggregator, filter: Filter?, window: WindowSpec) {
        self.operation = operation
        self.filter = filter
        self.window = window
    }

    public static func == (a: AggregateSpec, b: AggregateSpec) -> Bool {
        a.operation.identity == b.operation.identity && a.filter == b.filter && a.window == b.window
    }
}
