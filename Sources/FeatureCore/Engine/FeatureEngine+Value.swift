import FsmlCore

extension FeatureEngine {
    /// The value of a feature for an entity state as of `t`: NaN when the entity is missing
    /// (never seen, or expired by its TTL) or the value is undefined (a ratio over 0). A derived
    /// feature sees this state alone: other entities' features and request fields read as missing.
    ///
    /// Exact when every event folded into `state` is before `t`, which holds for the server (it
    /// reads at or after the latest event) and for point-in-time builds (they fold only events
    /// known before t).
    public func value(feature f: Int, state: EntityState?, asOf t: Micros) -> Double {
        let entity = featureEntities[f]
        return value(feature: f, states: { $0 == entity ? state : nil }, fields: { _ in .missing }, asOf: t)
    }

    /// The value of a feature for one request or example row: each entity's state (nil where the
    /// row names none), the row's fields (the request body, or the example event), as of `t`.
    /// Aggregates read their entity's state; derived features evaluate their expression, each
    /// operand by this same rule.
    public func value(
        feature f: Int, states: (Int) -> EntityState?, fields: (Int) -> FieldValue, asOf t: Micros
    ) -> Double {
        value(
            feature: f, aggregates: { slotValue(feature: $0, state: states(featureEntities[$0]), asOf: t) },
            fields: fields, asOf: t)
    }

    /// `value` for a row whose entity states were looked up once, indexed by entity kind: what a
    /// build or a request does for every feature, without a lookup per feature.
    public func value(
        feature f: Int, states: [EntityState?], fields: (Int) -> FieldValue, asOf t: Micros
    ) -> Double {
        value(
            feature: f, aggregates: { slotValue(feature: $0, state: states[featureEntities[$0]], asOf: t) },
            fields: fields, asOf: t)
    }

    /// `value` for a row whose aggregate features were read already (`aggregates(f)`, by feature
    /// index): derived features evaluate their expressions over them, as `value` would over the
    /// states. What lets entity kinds be read on different threads and joined after.
    public func value(
        feature f: Int, aggregates: (Int) -> Double, fields: (Int) -> FieldValue, asOf t: Micros
    ) -> Double {
        switch plans[f] {
        case .slot: return aggregates(f)
        case .derived(let expression):
            return withoutActuallyEscaping(aggregates) { aggregates in
                withoutActuallyEscaping(fields) { fields in
                    expression.evaluate(
                        FeatureExpression.Inputs(
                            feature: { self.value(feature: $0, aggregates: aggregates, fields: fields, asOf: t) },
                            field: fields, time: t))
                }
            }
        }
    }

    /// Whether a feature is read from a slot (not derived).
    public func isAggregate(_ f: Int) -> Bool {
        if case .slot = plans[f] { return true }
        return false
    }

    /// The values of `features` for one row, in order (see the array form of `value`).
    public func values(
        features: [Int], states: [EntityState?], fields: (Int) -> FieldValue, asOf t: Micros
    ) -> [Double] {
        features.map { value(feature: $0, states: states, fields: fields, asOf: t) }
    }

    @inline(__always)
    private func slotValue(feature f: Int, state: EntityState?, asOf t: Micros) -> Double {
        guard let state, !state.isEmpty else { return .nan }
        // Through buffer pointers, as in `fold`: a subscript would copy the existential.
        return reads.withUnsafeBufferPointer { reads in
            finalizers.withUnsafeBufferPointer { finalizers in
                state.storage!.withWords { words in
                    slotValue(f, words: words, lastTime: state.lastTime, asOf: t, reads: reads, finalizers: finalizers)
                }
            }
        }
    }

    /// An aggregate's value from its state's words: missing once the entity expired (its TTL),
    /// else its slot finalized as of t. The one rule for `value` and `appendSlotValues`.
    @inline(__always)
    private func slotValue(
        _ f: Int, words: UnsafeMutableRawPointer, lastTime: Micros, asOf t: Micros,
        reads: UnsafeBufferPointer<SlotRead>, finalizers: UnsafeBufferPointer<any Aggregator>
    ) -> Double {
        if WindowRule.isExpired(lastEvent: lastTime, asOf: t, ttl: reads[f].ttl) { return .nan }
        return finalizers[f].value(of: words + reads[f].byteOffset, window: reads[f].window, asOf: t)
    }

    /// Appends `slotValue` of each of `features` (aggregates of the state's entity kind) for the
    /// state at `state`, which must stay in place meanwhile: read without copying it (a copy would
    /// retain its storage). For `StateTable.appendValues`.
    func appendSlotValues(
        features: UnsafeBufferPointer<Int>, state: UnsafePointer<EntityState>, asOf t: Micros, to values: inout [Double]
    ) {
        let lastTime = state.pointee.lastTime
        reads.withUnsafeBufferPointer { reads in
            finalizers.withUnsafeBufferPointer { finalizers in
                state.pointee.storage.unsafelyUnwrapped.withWords { words in
                    for f in features {
                        values.append(
                            slotValue(
                                f, words: words, lastTime: lastTime, asOf: t, reads: reads, finalizers: finalizers))
                    }
                }
            }
        }
    }

    /// The values of the given features for one state, in order.
    public func values(features: [Int], state: EntityState?, asOf t: Micros) -> [Double] {
        features.map { value(feature: $0, state: state, asOf: t) }
    }

    /// The fields derived features read from requests (and, in builds, from example events), in
    /// schema order.
    public var requestFields: [Int] {
        registry.features.indices.reduce(into: Set<Int>()) { $0.formUnion(registry.requestFields(of: $1)) }.sorted()
    }
}
