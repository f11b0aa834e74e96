import FsmlCore

/// Everything fsml.yaml declares, checked and resolved: the one definition of every feature that
/// the stream job, the point-in-time builder and the server all compute from.
public struct FeatureRegistry: Sendable, Equatable {
    public var project: String
    public var schema: EventSchema
    public var allowedLateness: Micros
    /// How far one event may move the stream clock (`max_clock_jump`, `clock_jump_quorum`).
    public var clockJumps = ClockJumpRule.standard
    public var entities: [EntitySpec]
    public var features: [FeatureSpec]
    public var views: [FeatureView]
    public var label: LabelSpec?
    public var stores: StoreSpec
    /// Data-quality expectations (`fsml validate`); empty when fsml.yaml declares none.
    public var expectations = Expectations()
    /// The file the registry came from, for messages.
    public var source: String

    public init(
        project: String, schema: EventSchema, allowedLateness: Micros, entities: [EntitySpec], features: [FeatureSpec],
        views: [FeatureView], label: LabelSpec?, stores: StoreSpec, expectations: Expectations = Expectations(),
        source: String
    ) {
        self.project = project
        self.schema = schema
        self.allowedLateness = allowedLateness
        self.entities = entities
        self.features = features
        self.views = views
        self.label = label
        self.stores = stores
        self.expectations = expectations
        self.source = source
    }

    public func entityIndex(_ name: String) -> Int? { entities.firstIndex { $0.name == name } }
    public func featureIndex(_ name: String) -> Int? { features.firstIndex { $0.name == name } }

    /// Features that feature views serve, in view order: the model's inputs.
    public var servedFeatures: [Int] { views.flatMap(\.features) }

    /// The canonical text of a feature's definition: everything that decides its values, and
    /// nothing else (not its description or line).
    public func canonicalDefinition(of index: Int) -> String {
        let f = features[index]
        let entity = entities[f.entity]
        var parts = [
            "name=\(f.name)", "entity=\(entity.name)",
            "key=\(entity.keyFields.map { schema.fields[$0].name }.joined(separator: ","))",
            "ttl=\(entity.ttl)", "aggregation=\(f.operationName)",
        ]
        switch f.kind {
        case .aggregate(let a):
            parts += a.operation.arguments(in: schema).map { "\($0.key)=\($0.value)" }
            if let filter = a.filter { parts.append("filter=\(filter)") }
            parts.append(a.window.canonicalText)
        case .derived(let d):
            if let r = d.ratio {
                parts.append("numerator={\(canonicalDefinition(of: r.numerator))}")
                parts.append("denominator={\(canonicalDefinition(of: r.denominator))}")
            } else {
                parts.append("expression=\(d.expression)")
                for f in d.expression.features.sorted() {
                    parts.append("\(features[f].name)={\(canonicalDefinition(of: f))}")
                }
            }
        }
        return parts.joined(separator: ";")
    }

    /// A short hash of the canonical definition: recorded in datasets and runs so that a model is
    /// never served features that were defined differently from those it was trained on.
    public func definitionHash(of index: Int) -> String {
        String(SHA256.hex(of: canonicalDefinition(of: index)).prefix(16))
    }

    /// The event fields a feature reads from the request, through its expression and the derived
    /// features it uses; empty for an aggregate.
    public func requestFields(of index: Int) -> Set<Int> {
        guard let d = features[index].derived else { return [] }
        return d.expression.features.reduce(into: d.expression.fields) { $0.formUnion(requestFields(of: $1)) }
    }

    /// Whether a feature needs more than its entity's state: request fields or another entity's
    /// features. Such a feature has a value per request (or example row), not per entity, so
    /// `/features`, `fsml features get` and parity leave it out.
    public func isRequestTime(_ index: Int) -> Bool {
        guard let d = features[index].derived else { return false }
        if !d.expression.fields.isEmpty { return true }
        return d.expression.features.contains { features[$0].entity != features[index].entity || isRequestTime($0) }
    }

    /// Whether a feature's values are categories (`category(field, ...)`), which models split by set.
    public func isCategorical(_ index: Int) -> Bool { features[index].derived?.expression.isCategory ?? false }

    /// The time rule that decides the feature's value as of t, in words.
    public func windowWords(of index: Int) -> String {
        let f = features[index]
        let ttl = DurationText.words(entities[f.entity].ttl)
        let entity = entities[f.entity].name
        let expiry = "The \(entity) reads as missing when its latest event is more than \(ttl) before t."
        switch f.kind {
        case .aggregate(let a):
            switch a.window {
            case .sliding(let w, let h):
                let (wt, ht, span) = (DurationText.format(w), DurationText.format(h), DurationText.format(w + h))
                return """
                    Uses the events with event time in [floor(t / \(ht)) * \(ht) - \(wt), t): the \(wt) window ending \
                    at t, its start moved back to the \(ht) tile boundary at or before t - \(wt), so it spans from \
                    \(wt) to \(span); an event at t or later never counts. \(expiry)
                    """
            case .session, .lifetime:
                return "Covers every event of the \(entity) with event time before t. \(expiry)"
            case .decayed(let h):
                let ht = DurationText.format(h)
                return """
                    Sums the \(entity)'s events with event time before t, each weighted 2^(-(t - event time) / \(ht)) \
                    (half-life \(ht)); events more than 64 half-lives old weigh nothing. \(expiry)
                    """
            }
        case .derived(let d):
            if let r = d.ratio {
                return """
                    \(features[r.numerator].name) / \(features[r.denominator].name), both as of t; missing when the \
                    denominator is 0. \(expiry)
                    """
            }
            let fields = d.expression.fields.sorted().map { schema.fields[$0].name }
            let request =
                fields.isEmpty
                ? "" : " Reads \(fields.joined(separator: ", ")) from the request (in a build, from the example event)."
            return """
                \(d.expression), its features as of t; missing when an operand is missing (coalesce and if \
                excepted) or the result is not finite.\(request)
                """
        }
    }
}
