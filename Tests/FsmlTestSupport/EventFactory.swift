import FeatureConfig
import FeatureCore
import FsmlCore

/// Builds reference-schema events for tests without going through JSON.
public struct EventFactory {
    public let registry: FeatureRegistry
    private var counter = 0

    public init(registry: FeatureRegistry) { self.registry = registry }

    public static func referenceRegistry() -> FeatureRegistry {
        try! RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml")
    }

    /// Minutes and seconds after 2025-01-15T12:00:00Z, for readable crafted times.
    public static func at(_ minutes: Double) -> Micros {
        noon + Micros((minutes * 60_000_000).rounded())
    }

    public static let noon = try! Timestamp.parse("2025-01-15T12:00:00Z").get()

    public mutating func make(
        _ time: Micros, type: String = "page_view", user: String = "u1", session: String = "s1",
        product: String = "p1", price: Double = 10, id: String? = nil
    ) -> Event {
        counter += 1
        let s = registry.schema
        var values = [FieldValue](repeating: .missing, count: s.fields.count)
        values[s.index(of: "event_id")!] = .string(id ?? "e\(counter)")
        values[s.index(of: "event_ts")!] = .number(Double(time))
        values[s.index(of: "user_id")!] = .string(user)
        values[s.index(of: "session_id")!] = .string(session)
        values[s.index(of: "event_type")!] = .string(type)
        values[s.index(of: "product_id")!] = .string(product)
        values[s.index(of: "price")!] = .number(price)
        return Event(time: time, values: values)
    }
}
