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
        case .ratio(let n, let d):
            parts.append("numerator={\(canonicalDefinition(of: n))}")
            parts.append("denominator={\(canonicalDefinition(of: d))}")
        }
        return parts.joined(separator: ";")
    }

    /// A short hash of the canonical definition: recorded in datasets and runs so that a model is
    /// never served features that were defined differently from those it was trained on.
    public func definitionHash(of index: Int) -> String {
        String(SHA256.hex(of: canonicalDefinition(of: index)).prefix(16))
    }

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
        case .ratio(let n, let d):
            return """
                \(features[n].name) / \(features[d].name), both as of t; missing when the denominator is 0. \
                \(expiry)
                """
        }
    }
}
