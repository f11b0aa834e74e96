import FeatureCore

/// What a request to the server may and must carry, read from fsml.yaml and the model: the key
/// fields of the entities whose features the model uses, whatever their names.
///
/// A key field is required when an entity the model uses is keyed by it alone (`account`,
/// `terminal`); a field that only completes a composite key (`visit` in `[account,
/// visit]`) is optional, and without it that entity reads as missing and is named in the
/// answer's `missing_entities`. When no entity the model uses has a single-field key, every key
/// field is required.
public struct ServingContract: Sendable, Equatable {
    /// The entity kinds the model reads, in registry order.
    public let entities: [Int]
    /// Their key fields, in the order of first appearance.
    public let keyFields: [String]
    public let required: Set<String>

    public init(registry: FeatureRegistry, features: [Int]) {
        let used = Set(features.map { registry.features[$0].entity })
        entities = registry.entities.indices.filter { used.contains($0) }
        var fields: [String] = []
        var required: Set<String> = []
        for e in entities {
            let names = registry.entities[e].keyFields.map { registry.schema.fields[$0].name }
            for n in names where !fields.contains(n) { fields.append(n) }
            if names.count == 1 { required.insert(names[0]) }
        }
        keyFields = fields
        self.required = required.isEmpty ? Set(fields) : required
    }

    /// The required key fields, in contract order.
    public var requiredFields: [String] { keyFields.filter { required.contains($0) } }
}
