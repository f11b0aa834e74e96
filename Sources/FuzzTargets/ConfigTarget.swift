import FeatureConfig
import FeatureCore

/// fsml.yaml as a user writes it: a registry the engine can be built from, or a `ConfigError`
/// that is one printable line of bounded length.
enum ConfigTarget {
    static let target = FuzzTarget(
        name: "config", summary: "the fsml.yaml loader and the engine built from what it accepts", run: run)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let registry: FeatureRegistry
        do { registry = try RegistryLoader.parse(String(decoding: bytes, as: UTF8.self), file: "fsml.yaml") } catch {
            let text = error.description
            mustHold(!text.unicodeScalars.contains { $0.value < 0x20 }, "a config error holds control characters")
            mustHold(text.count < 1000, "a config error of \(text.count) characters")
            return
        }
        let engine = FeatureEngine(registry: registry)
        for e in engine.entities.indices {
            let empty = engine.emptyState(entity: e)
            // An aggregate of nothing is missing (a derived feature may coalesce it).
            for f in registry.features.indices
            where registry.features[f].entity == e && registry.features[f].aggregate != nil {
                mustHold(engine.value(feature: f, state: empty, asOf: 0).isNaN, "a feature of nothing is not missing")
            }
        }
    }
}
