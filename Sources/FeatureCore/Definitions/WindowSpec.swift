import FsmlCore

/// Which events of an entity a feature gathers, and how. The time rule of each kind is in
/// `WindowRule`; every kind also obeys the entity's TTL.
public enum WindowSpec: Sendable, Equatable {
    /// Events in the sliding window ending at the as-of time, kept in tiles of `hop`.
    case sliding(window: Micros, hop: Micros)
    /// Every event of the entity's life since it last started (for a session entity: the session).
    case session
    /// Every event of the entity's life since it last started over: no window, the TTL alone ends
    /// it. The same events as `session`; the name says what a non-session entity means by it.
    case lifetime
    /// Every event of the entity's life, each weighted 2^(−age / half-life) at the as-of time.
    case decayed(halfLife: Micros)

    /// The window's part of a slot fingerprint. Fingerprints are stored with every state, so this
    /// text never changes for an existing kind.
    var fingerprintText: String {
        switch self {
        case .sliding(let w, let h): return "sliding(window: \(w), hop: \(h))"
        case .session: return "session"
        case .lifetime: return "lifetime"
        case .decayed(let h): return "decayed(half_life: \(h))"
        }
    }

    /// The window's part of a feature's canonical definition (and so of its definition hash):
    /// never changes for an existing kind.
    public var canonicalText: String {
        switch self {
        case .sliding(let w, let h): return "window=\(w);hop=\(h)"
        case .session: return "window=session"
        case .lifetime: return "window=lifetime"
        case .decayed(let h): return "window=decayed;half_life=\(h)"
        }
    }

    /// As `fsml features` shows it: `24h hop 1h`, `session`, `lifetime`, `decayed half-life 1h`.
    public var text: String {
        switch self {
        case .sliding(let w, let h): return "\(DurationText.format(w)) hop \(DurationText.format(h))"
        case .session: return "session"
        case .lifetime: return "lifetime"
        case .decayed(let h): return "decayed half-life \(DurationText.format(h))"
        }
    }

    /// As fsml.yaml spells it: the `window` key and, where there is one, its companion key.
    public var yamlKeys: [(key: String, value: String)] {
        switch self {
        case .sliding(let w, let h): return [("window", DurationText.format(w)), ("hop", DurationText.format(h))]
        case .session: return [("window", "session")]
        case .lifetime: return [("window", "lifetime")]
        case .decayed(let h): return [("window", "decayed"), ("half_life", DurationText.format(h))]
        }
    }

}
