import FeatureCore
import FsmlCore

/// What a /predict needs of its model, worked out once when the model loads instead of on every
/// request: the fields a body may name (as bytes, to match straight against the body), where each
/// goes, which request slots make each entity's key, and the answer's constant JSON pieces.
struct PredictPlan: Sendable {
    /// Where a member of the body goes.
    enum Slot: Sendable, Equatable {
        /// The contract's key field of this index.
        case key(Int)
        /// A request field: its schema index and type.
        case request(index: Int, type: FieldType)
    }

    /// Every field a body may name, with its slot; key fields first (a name that is both a key field
    /// and a request field is read as a key, as `ServeRequests.read` does).
    let names: [(name: [UInt8], slot: Slot)]
    /// The contract's key fields' schema indexes, in contract order.
    let keySchemaIndexes: [Int]
    /// The key slots that must be given, as a bit mask over the contract's key fields.
    let requiredKeys: UInt64
    /// Per entity the model reads (contract order): its kind and its key fields' slots, in key order.
    let entityKeys: [(entity: Int, slots: [Int])]
    let schemaCount: Int
    let entityCount: Int
    /// `"name"` per model feature and per entity kind, for the answer's lists.
    let quotedFeatures: [[UInt8]]
    let quotedEntities: [[UInt8]]
    /// `,"model_version":"<version>","missing":[`
    let versionAndMissing: [UInt8]

    /// Whether the scanner can hold the contract's key fields in its bit masks.
    var scannable: Bool { keySchemaIndexes.count <= 64 && names.count <= 64 }

    init(contract: ServingContract, lookup: FeatureLookup, version: String) {
        let registry = lookup.registry
        var names: [(name: [UInt8], slot: Slot)] = contract.keyFields.enumerated().map {
            (Array($0.element.utf8), .key($0.offset))
        }
        for (name, field) in contract.requestFields.sorted(by: { $0.key < $1.key })
        where !contract.keyFields.contains(name) {
            names.append((Array(name.utf8), .request(index: field.index, type: field.type)))
        }
        self.names = names
        keySchemaIndexes = contract.keyFields.map { registry.schema.index(of: $0) ?? -1 }
        var required: UInt64 = 0
        for (j, name) in contract.keyFields.enumerated() where j < 64 && contract.required.contains(name) {
            required |= 1 << UInt64(j)
        }
        requiredKeys = required
        entityKeys = contract.entities.map { e in
            (e, lookup.keyFields(entity: e).map { contract.keyFields.firstIndex(of: $0)! })
        }
        schemaCount = registry.schema.fields.count
        entityCount = registry.entities.count
        quotedFeatures = lookup.featureNames.map { Array(JSONText.quote($0).utf8) }
        quotedEntities = registry.entities.map { Array(JSONText.quote($0.name).utf8) }
        versionAndMissing = Array(",\"model_version\":\(JSONText.quote(version)),\"missing\":[".utf8)
    }

    /// The slot of the member named by `name`, or nil for a field the contract does not know.
    func slot(named name: UnsafeRawBufferPointer) -> (index: Int, slot: Slot)? {
        for (i, n) in names.enumerated() where n.name.count == name.count {
            let same = n.name.withUnsafeBytes { $0.elementsEqual(name) }
            if same { return (i, n.slot) }
        }
        return nil
    }
}
