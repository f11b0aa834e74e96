import FeatureCore
import FsmlCore

/// The registry's label definition as a rule: an example event at t is positive when an outcome
/// event with the same values of the `same` fields comes at a time in (t, t + within].
public struct LabelRule: Sendable {
    public let spec: LabelSpec

    public init(spec: LabelSpec) { self.spec = spec }

    /// The values that must match between an example and its outcome, joined.
    public func matchKey(_ event: Event) -> String? {
        var parts: [String] = []
        for f in spec.same {
            switch event.values[f] {
            case .string(let s): parts.append(s)
            case .number(let x): parts.append(String(x))
            case .bool(let b): parts.append(b ? "true" : "false")
            case .missing: return nil
            }
        }
        return EntityKeyMaker.join(parts)
    }

    /// Whether one of the outcome times (of events with the same match key) falls in the horizon.
    public func label(exampleAt t: Micros, outcomes: [Micros]) -> Bool {
        outcomes.contains { $0 > t && $0 <= t + spec.within }
    }

    /// An example is mature when its horizon ends before what is settled: the final watermark (the
    /// latest event time known, less the allowed lateness). An event at or after the watermark
    /// could still be admitted, so an outcome inside a horizon that reaches it could still change
    /// the label.
    public func isMature(_ t: Micros, settledUntil watermark: Micros) -> Bool { t + spec.within < watermark }
}
