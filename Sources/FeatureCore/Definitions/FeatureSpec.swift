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

    /// The aggregate, unless the feature is derived.
    public var aggregate: AggregateSpec? {
        if case .aggregate(let a) = kind { return a }
        return nil
    }

    /// The expression, when the feature is derived.
    public var derived: DerivedSpec? {
        if case .derived(let d) = kind { return d }
        return nil
    }

    /// The name fsml.yaml spells for what the feature computes (`count`, `sum`, `ratio`, `expression`).
    public var operationName: String {
        switch kind {
        case .aggregate(let a): return a.operation.name
        case .derived(let d): return d.ratio == nil ? "expression" : "ratio"
        }
    }
}

public enum FeatureKind: Sendable, Equatable {
    case aggregate(AggregateSpec)
    /// A formula over other features, the request's fields and the time.
    case derived(DerivedSpec)
}

/// A derived feature: its expression, and whether fsml.yaml spelled it as a `ratio` of two
/// features (`numerator / denominator`, missing when the denominator is 0), which keeps the
/// canonical text, and so the definition hash, that ratios always had.
public struct DerivedSpec: Sendable, Equatable {
    public struct Ratio: Sendable, Equatable {
        public var numerator: Int
        public var denominator: Int

        public init(numerator: Int, denominator: Int) {
            self.numerator = numerator
            self.denominator = denominator
        }
    }

    public var expression: FeatureExpression
    public var ratio: Ratio?

    public init(expression: FeatureExpression, ratio: Ratio? = nil) {
        self.expression = expression
        self.ratio = ratio
    }

    /// `numerator / denominator` spelled as a ratio.
    public static func ratio(_ numerator: Int, _ denominator: Int, names: (String, String)) -> DerivedSpec {
        DerivedSpec(
            expression: .binary(.divide, .feature(numerator, name: names.0), .feature(denominator, name: names.1)),
            ratio: Ratio(numerator: numerator, denominator: denominator))
    }
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
