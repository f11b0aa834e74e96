import FeatureCore
import FsmlCore

/// One entity's feature values from the online store, as of an instant: what `fsml features get`
/// prints (Feast's get-online-features) and `/features/{entity}/{key}` answers.
public enum OnlineFeatures {
    public struct Values: Sendable {
        public var entity: String
        public var key: String
        public var asOf: Micros
        /// The latest event folded into the state; nil when the store holds none.
        public var lastEvent: Micros?
        /// NaN for a missing value.
        public var features: [(name: String, value: Double)]
    }

    /// The key of entity `e` from its key values in order: one value per key field, or one text
    /// already joined as `EntityKeyMaker.join` joins (`a17:d4`, with ':' and '%' escaped).
    public static func key(_ parts: [String], entity e: Int, registry: FeatureRegistry) throws(ServingError) -> String {
        let fields = registry.entities[e].keyFields.map { registry.schema.fields[$0].name }
        if parts.count == fields.count || (parts.count == 1 && fields.count > 1) {
            return parts.count == 1 ? parts[0] : EntityKeyMaker.join(parts)
        }
        throw ServingError(
            "\(registry.entities[e].name) is keyed by \(fields.joined(separator: ", ")): give \(fields.count) values")
    }

    /// Reads and evaluates `features` (all of the entity's by default) as of `asOf`, or by
    /// default just after the stream's clock as the store records it (the wall clock when it
    /// records none).
    public static func read(
        store: any OnlineStore, registry: FeatureRegistry, entity e: Int, key: String, features: [Int]? = nil,
        asOf: Micros? = nil
    ) throws -> Values {
        let engine = FeatureEngine(registry: registry)
        let t = try asOf ?? (store.readClock().map { $0 + 1 } ?? wallClockMicros())
        let stored = try store.read([(e, key)])[0]
        var state: EntityState?
        if let stored {
            guard let blob = StoredValue.blob(stored) else { throw ServingError("the stored value is not a state") }
            do { state = try StateCodec.decode(blob, engine: engine, entity: e) } catch {
                throw ServingError("the stored state does not decode: \(error.description)")
            }
        }
        let chosen =
            features
            ?? registry.features.indices.filter {
                registry.features[$0].entity == e && !registry.isRequestTime($0)
            }
        return Values(
            entity: registry.entities[e].name, key: key, asOf: t, lastEvent: state.map(\.lastTime),
            features: chosen.map { (registry.features[$0].name, engine.value(feature: $0, state: state, asOf: t)) })
    }
}
