import FeatureCore
import FsmlCore

/// A /predict body read against its model's plan: the key values in contract order and the
/// request fields by schema index. Arrays where `ServeRequests.Fields` has dictionaries: a
/// request builds and reads these once each, and hashing names cost more than the lookups saved.
struct PredictFields: Equatable, Sendable {
    /// Per contract key field, its value; nil where not given (or given as null).
    var keys: [String?]
    /// The request fields given, by schema index and in body order (null read as missing).
    var values: [(index: Int, value: FieldValue)]
    /// Whether the answer carries the row's top SHAP contributions (`"explain": true`).
    var explain = false

    static func == (a: PredictFields, b: PredictFields) -> Bool {
        a.keys == b.keys && a.explain == b.explain && a.values.count == b.values.count
            && zip(a.values, b.values).allSatisfy { $0.index == $1.index && $0.value == $1.value }
    }

    /// The same request as read by the general path (`ServeRequests.predict`).
    init(_ fields: ServeRequests.Fields, contract: ServingContract) {
        keys = contract.keyFields.map { fields.keys[$0] }
        values = fields.values.compactMap { name, value in
            contract.requestFields[name].map { (index: $0.index, value: value) }
        }.sorted { $0.index < $1.index }
        explain = fields.explain
    }

    init(keys: [String?], values: [(index: Int, value: FieldValue)], explain: Bool = false) {
        self.keys = keys
        self.values = values
        self.explain = explain
    }

    /// The entity keys the request names: of each entity the model reads, the one whose key
    /// fields are all given (`FeatureLookup.keys`).
    func entityKeys(_ plan: PredictPlan) -> [StoreReader.Key] {
        var out: [StoreReader.Key] = []
        out.reserveCapacity(plan.entityKeys.count)
        for (e, slots) in plan.entityKeys {
            if slots.count == 1 {
                if let k = keys[slots[0]] { out.append((e, k)) }
                continue
            }
            let parts = slots.compactMap { keys[$0] }
            if parts.count == slots.count { out.append((e, Self.join(parts))) }
        }
        return out
    }

    /// `EntityKeyMaker.join`, without its arrays where no part has a byte it escapes (then it joins
    /// them as they are).
    static func join(_ parts: [String]) -> String {
        var bytes = parts.count - 1
        for p in parts {
            if p.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "%") }) {
                return EntityKeyMaker.join(parts)
            }
            bytes += p.utf8.count
        }
        var key = ""
        key.reserveCapacity(bytes)
        for (i, p) in parts.enumerated() {
            if i > 0 { key += ":" }
            key += p
        }
        return key
    }

    /// The row's fields by schema index, as derived features read them: the key values as strings,
    /// then the request fields (`FeatureLookup.fieldValues`).
    func schemaValues(_ plan: PredictPlan) -> [FieldValue] {
        var out = [FieldValue](repeating: .missing, count: plan.schemaCount)
        for (j, k) in keys.enumerated() {
            if let k, plan.keySchemaIndexes[j] >= 0 { out[plan.keySchemaIndexes[j]] = .string(k) }
        }
        for (i, v) in values { out[i] = v }
        return out
    }

    /// The key fields given, by name in contract order (the served-feature log's ids).
    func ids(_ contract: ServingContract) -> [(String, String)] {
        zip(contract.keyFields, keys).compactMap { name, value in value.map { (name, $0) } }
    }
}
