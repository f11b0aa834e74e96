import FeatureCore
import FsmlCore
import OnlineStorage

/// Turns a request's ids into the model's feature vector: which entity keys to read, and the
/// values of the model's features from the states read, as of the serving time, through the same
/// engine code as training.
public struct FeatureLookup: Sendable {
    public let registry: FeatureRegistry
    public let engine: FeatureEngine
    /// The model's features, in its column order, as registry feature indexes.
    public let features: [Int]
    public let featureNames: [String]
    let decoded = DecodedStateCache()
    /// Per entity kind, the names of its key fields.
    private let entityKeyFields: [[String]]

    public init(registry: FeatureRegistry, modelFeatures: [String]) throws {
        self.registry = registry
        engine = FeatureEngine(registry: registry)
        features = try modelFeatures.map { name in
            guard let i = registry.features.firstIndex(where: { $0.name == name }) else {
                throw ServingError("the model uses feature '\(name)', which \(registry.source) does not define")
            }
            return i
        }
        featureNames = modelFeatures
        entityKeyFields = registry.entities.map { e in e.keyFields.map { registry.schema.fields[$0].name } }
    }

    /// The request fields each entity's key needs (an entity keyed [a, b] needs fields a and b).
    public func keyFields(entity e: Int) -> [String] { entityKeyFields[e] }

    /// The entity keys a request names: of `entities` (all by default), each whose key fields
    /// are all given.
    public func keys(_ fields: [String: String], entities: [Int]? = nil) -> [(entity: Int, key: String)] {
        (entities ?? Array(registry.entities.indices)).compactMap { e in
            let parts = keyFields(entity: e).compactMap { fields[$0] }
            return parts.count == registry.entities[e].keyFields.count ? (e, EntityKeyMaker.join(parts)) : nil
        }
    }

    /// Entity states from stored values: none where the store had nothing; where the bytes do not
    /// decode, none either, and `undecodable` is told (the entity and why).
    public func states(
        _ stored: [Int: [UInt8]?], undecodable: (Int, String) -> Void = { _, _ in }
    ) -> [Int: EntityState] {
        var states: [Int: EntityState] = [:]
        for (e, value) in stored {
            guard let value else { continue }
            states[e] = state(entity: e, stored: value, undecodable: undecodable)
        }
        return states
    }

    /// One entity's state from its stored value; nil, and `undecodable` told, when it does not decode.
    func state(entity e: Int, stored value: [UInt8], undecodable: (Int, String) -> Void) -> EntityState? {
        guard value.count >= 8 else {
            undecodable(e, "a stored value of \(value.count) bytes")
            return nil
        }
        do {
            return try decoded.state(entity: e, bytes: value) { () throws(StateDecodeError) in
                try StateCodec.decode(StoredValue.blob(value)!, engine: engine, entity: e)
            }
        } catch {
            undecodable(e, error.description)
            return nil
        }
    }

    /// The vector for stored values as of `asOf`; NaN for missing features, which are named.
    public func vector(
        stored: [Int: [UInt8]?], asOf: Micros, undecodable: (Int, String) -> Void = { _, _ in }
    ) -> (values: [Float], missing: [String], newest: Micros?) {
        vector(states: states(stored, undecodable: undecodable), asOf: asOf)
    }

    /// The vector for decoded states and the request's fields (by schema index); `newest` is the
    /// latest event time among the states.
    public func vector(
        states: [Int: EntityState], fields: [Int: FieldValue] = [:], asOf: Micros
    ) -> (values: [Float], missing: [String], newest: Micros?) {
        var values = [Float](repeating: .nan, count: features.count)
        var missing: [String] = []
        let rowStates = engine.entities.indices.map { states[$0] }
        for (i, f) in features.enumerated() {
            let v = engine.value(feature: f, states: rowStates, fields: { fields[$0] ?? .missing }, asOf: asOf)
            if v.isNaN { missing.append(featureNames[i]) } else { values[i] = Float(v) }
        }
        return (values, missing, states.values.map(\.lastTime).max())
    }

    /// A request's fields by schema index: the request fields it gives, and its key values as
    /// strings (an expression may compare a key field).
    public func fieldValues(_ fields: ServeRequests.Fields) -> [Int: FieldValue] {
        var out: [Int: FieldValue] = [:]
        for (name, v) in fields.keys { if let i = registry.schema.index(of: name) { out[i] = .string(v) } }
        for (name, v) in fields.values { if let i = registry.schema.index(of: name) { out[i] = v } }
        return out
    }
}

public struct ServingError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
