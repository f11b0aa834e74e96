import FeatureCore
import FsmlCore

/// The online store's states (what `fsml stream` writes), read as `fsml serve` reads them: one
/// round trip per request, each state decoded and its features computed as of a time by the same
/// engine that folded it.
public final class OnlineFeatures: @unchecked Sendable {
    let registry: FeatureRegistry
    let engine: FeatureEngine
    let store: any OnlineStore

    init(registry: FeatureRegistry, store: any OnlineStore) {
        self.registry = registry
        engine = FeatureEngine(registry: registry)
        self.store = store
    }

    /// The stream's event-time clock, as the store last recorded it.
    public func clock() throws -> Micros? { try store.readClock() }

    /// The features (`names`, or every served feature) for the entities a request names, as of
    /// `asOf` (default: the stream's clock). A state that does not decode throws.
    public func features(
        _ request: [String: FieldValue], names: [String]? = nil, asOf: Micros? = nil
    ) throws
        -> FeatureVector
    {
        let features = try featureIndexes(names, registry: registry)
        let event = requestEvent(request, schema: registry.schema)
        let keys = engine.entities.indices.compactMap { e in
            engine.entities[e].keyMaker.key(event).map { (entity: e, key: $0) }
        }
        let stored = try store.read(keys)
        var states = [EntityState?](repeating: nil, count: engine.entities.count)
        for (k, value) in zip(keys, stored) {
            guard let value, let blob = StoredValue.blob(value) else { continue }
            do {
                states[k.entity] = try StateCodec.decode(blob, engine: engine, entity: k.entity)
            } catch {
                throw FSMLError("the stored state of \(registry.entities[k.entity].name) '\(k.key)': \(error)")
            }
        }
        let t = try asOf ?? store.readClock() ?? wallClockMicros()
        return FeatureVector(
            names: features.map { registry.features[$0].name },
            values: features.map { f in engine.value(feature: f, states: states, fields: { event.values[$0] }, asOf: t)
            })
    }
}
