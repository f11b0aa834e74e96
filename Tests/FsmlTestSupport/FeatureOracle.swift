import FeatureCore
import FsmlCore

/// The slow, obviously correct answer to "what is feature f of entity k as of t": scan every
/// admitted event. It shares no code with the engine beyond the parsed definitions: no tiles, no
/// slots, no window helper; the rules are written out again from docs/semantics.md.
public struct FeatureOracle {
    public struct Admitted {
        public let event: Event
        public let knownAt: Micros
        public init(event: Event, knownAt: Micros) {
            self.event = event
            self.knownAt = knownAt
        }
    }

    public let registry: FeatureRegistry
    /// Admitted events in arrival order.
    public let events: [Admitted]
    /// Arrival positions of each entity's events, per entity kind.
    private var byEntity: [[String: [Int]]]

    public init(registry: FeatureRegistry, events: [Admitted]) {
        self.registry = registry
        self.events = events
        byEntity = Array(repeating: [:], count: registry.entities.count)
        for (i, a) in events.enumerated() {
            for (e, entity) in registry.entities.enumerated() {
                if let key = Self.key(a.event, fields: entity.keyFields) { byEntity[e][key, default: []].append(i) }
            }
        }
    }

    public var keys: [[String]] { byEntity.map { Array($0.keys).sorted() } }

    static func key(_ event: Event, fields: [Int]) -> String? {
        var parts: [String] = []
        for f in fields {
            switch event.values[f] {
            case .string(let s): parts.append(s)
            case .number(let x): parts.append(String(Int64(x)))
            default: return nil
            }
        }
        return EntityKeyMaker.join(parts)
    }

    /// The entity's events that the state as of t holds: those that arrived while the clock was
    /// before t (arrival order), and of those only the ones after the last TTL gap.
    public func life(entity e: Int, key: String, asOf t: Micros, eventTimeOnly: Bool = false) -> [Event] {
        let ttl = registry.entities[e].ttl
        var included = (byEntity[e][key] ?? []).map { events[$0] }
        if eventTimeOnly {
            included = included.filter { $0.event.time < t }.sorted { $0.event.time < $1.event.time }
        } else {
            included = included.filter { $0.knownAt < t }
        }
        var current: [Event] = []
        var latest = Micros.min
        for a in included {
            if latest != .min && a.event.time - latest > ttl { current.removeAll() }
            current.append(a.event)
            latest = max(latest, a.event.time)
        }
        return current
    }

    public func value(feature f: Int, key: String, asOf t: Micros, eventTimeOnly: Bool = false) -> Double {
        let spec = registry.features[f]
        let events = life(entity: spec.entity, key: key, asOf: t, eventTimeOnly: eventTimeOnly)
        guard let latest = events.map(\.time).max() else { return .nan }
        if t - latest > registry.entities[spec.entity].ttl { return .nan }
        return value(spec, events: events, asOf: t)
    }

    private func value(_ spec: FeatureSpec, events all: [Event], asOf t: Micros) -> Double {
        guard case .aggregate(let a) = spec.kind else {
            guard case .ratio(let n, let d) = spec.kind else { return .nan }
            let den = value(registry.features[d], events: all, asOf: t)
            return den == 0 ? .nan : value(registry.features[n], events: all, asOf: t) / den
        }
        var events = all.filter { $0.time < t }
        if let filter = a.filter { events = events.filter { filter.matches($0) } }
        if case .sliding(let w, let h) = a.window {
            // [floor(t / h)·h − w, t)
            var start = t / h * h
            if t % h != 0 && t < 0 { start -= h }
            events = events.filter { $0.time >= start - w && $0.time < t }
        }
        // The operation's type and arguments only: none of its code.
        switch a.operation {
        case is CountAggregator:
            return Double(events.count)
        case let sum as SumAggregator:
            let field = sum.field
            // Sums are defined in micro-units.
            let units = events.reduce(Int64(0)) { acc, e in
                acc + Int64(((e.values[field].numericValue ?? 0) * 1_000_000).rounded())
            }
            return Double(units) / 1_000_000
        case let distinct as DistinctCountAggregator:
            let field = distinct.field
            return Double(
                Set(
                    events.compactMap { e -> FieldValue? in
                        if case .missing = e.values[field] { return nil }
                        return e.values[field]
                    }
                ).count)
        case let first as FirstAggregator:
            let field = first.field
            let idField = registry.schema.idField
            guard
                let e = events.min(by: {
                    ($0.time, StableHash.hash($0.values[idField].stringValue ?? "")) < (
                        $1.time, StableHash.hash($1.values[idField].stringValue ?? "")
                    )
                })
            else { return .nan }
            return e.values[field].numericValue ?? .nan
        case let last as LastAggregator:
            let field = last.field
            let idField = registry.schema.idField
            guard
                let e = events.max(by: {
                    ($0.time, StableHash.hash($0.values[idField].stringValue ?? "")) < (
                        $1.time, StableHash.hash($1.values[idField].stringValue ?? "")
                    )
                })
            else { return .nan }
            return e.values[field].numericValue ?? .nan
        case is DurationAggregator:
            guard let lo = events.map(\.time).min(), let hi = events.map(\.time).max() else { return .nan }
            return Double(hi - lo) / 1_000_000
        default:
            fatalError("the oracle does not know \(a.operation.name)")
        }
    }
}

/// NaN equals NaN; otherwise exact equality. Parity is exact, so tests compare bits, not closeness.
public func sameValue(_ a: Double, _ b: Double) -> Bool {
    (a.isNaN && b.isNaN) || a == b
}
