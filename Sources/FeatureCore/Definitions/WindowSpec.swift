import FsmlCore

/// Which events of an entity a feature gathers. The time rule of each kind is in `WindowRule`.
public enum WindowSpec: Sendable, Equatable {
    /// Events in the sliding window ending at the as-of time, kept in tiles of `hop`.
    case sliding(window: Micros, hop: Micros)
    /// Every event of the entity's life since it last started (for a session entity: the session).
    case session

    /// The window's part of a slot fingerprint. Fingerprints are stored with every state, so this
    /// text never changes for an existing kind.
    var fingerprintText: String {
        switch self {
        case .sliding(let w, let h): return "sliding(window: \(w), hop: \(h))"
        case .session: return "session"
        }
    }
}
