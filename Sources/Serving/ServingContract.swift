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
    /// Event fields the model's derived features read from the request (`amount`), by name, with
    /// their schema index and type; all optional (missing reads as missing).
    public let requestFields: [String: RequestField]

    public struct RequestField: Sendable, Equatable {
        public let index: Int
        public let type: FieldType
    }

    public init(registry: FeatureRegistry, features: [Int]) {
        var request: [String: RequestField] = [:]
        for f in features {
            for i in registry.requestFields(of: f) {
                request[registry.schema.fields[i].name] = RequestField(index: i, type: registry.schema.fields[i].type)
            }
        }
        requestFields = request
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

    /// Every field a request may carry: key fields, then request fields.
    public var allFields: [String] { keyFields + requestFields.keys.filter { !keyFields.contains($0) }.sorted() }

    /// The required key fields, in contract order.
    public var requiredFields: [String] { keyFields.filter { required.contains($0) } }
}
