import FsmlCore

extension FeatureEngine {
    /// The value of a feature for an entity state as of `t`: NaN when the entity is missing
    /// (never seen, or expired by its TTL) or the value is undefined (a ratio over 0).
    ///
    /// Exact when every event folded into `state` is before `t`, which holds for the server (it
    /// reads at or after the latest event) and for point-in-time builds (they fold only events
    /// known before t).
    public func value(feature f: Int, state: EntityState?, asOf t: Micros) -> Double {
        guard let state, !state.isEmpty else { return .nan }
        let entity = registry.features[f].entity
        if WindowRule.isExpired(lastEvent: state.lastTime, asOf: t, ttl: entities[entity].entity.ttl) { return .nan }
        return unexpiredValue(feature: f, state: state, asOf: t)
    }

    private func unexpiredValue(feature f: Int, state: EntityState, asOf t: Micros) -> Double {
        switch plans[f] {
        case .ratio(let n, let d):
            let den = unexpiredValue(feature: d, state: state, asOf: t)
            guard den != 0 else { return .nan }
            return unexpiredValue(feature: n, state: state, asOf: t) / den
        case .slot(let s):
            return entities[registry.features[f].entity].slots.withUnsafeBufferPointer {
                finalizers[f]!.value(of: state.slots[s], window: $0[s].window, asOf: t)
            }
        }
    }

    /// The values of the given features for one state, in order.
    public func values(features: [Int], state: EntityState?, asOf t: Micros) -> [Double] {
        features.map { value(feature: $0, state: state, asOf: t) }
    }
}
