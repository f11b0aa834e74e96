import FeatureCore
import FsmlCore

/// Stored states as an online store hands them back (any bytes: a corrupt or foreign value):
/// either a `StateDecodeError`, or a state that reads, encodes and decodes to itself.
enum StateTarget {
    static let target = FuzzTarget(name: "state", summary: "entity states read back from an online store", run: run)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let engine = FuzzedProject.engine
        guard let first = bytes.first, !engine.entities.isEmpty else { return }
        // The first byte picks the entity kind; the rest is the stored value.
        let entity = Int(first) % engine.entities.count
        let value = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        guard let state = try? StateCodec.decode(value, engine: engine, entity: entity) else { return }
        checkRoundTrip(state, entity: entity, asOf: state.lastTime)
    }

    /// A state encodes to bytes that decode to a state with the same bytes and the same values.
    static func checkRoundTrip(_ state: EntityState, entity: Int, asOf: Micros) {
        let engine = FuzzedProject.engine
        let bytes = StateCodec.encode(state, engine: engine, entity: entity)
        let decoded: EntityState
        do { decoded = try StateCodec.decode(bytes, engine: engine, entity: entity) } catch {
            return mustHold(false, "an encoded state does not decode: \(error)")
        }
        mustHold(StateCodec.encode(decoded, engine: engine, entity: entity) == bytes, "encode ∘ decode changed a state")
        let features = engine.registry.features.indices.filter { engine.registry.features[$0].entity == entity }
        for t in [asOf, asOf &+ 3_600_000_000] where t.magnitude < 1 << 60 {
            let before = engine.values(features: features, state: state, asOf: t)
            let after = engine.values(features: features, state: decoded, asOf: t)
            for (a, b) in zip(before, after) {
                mustHold(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "a value changed through the codec")
            }
        }
    }
}
