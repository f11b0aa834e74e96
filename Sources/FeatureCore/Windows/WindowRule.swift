import FsmlCore

/// The one rule for which events a sliding window covers. Everything that computes a windowed
/// feature (the stream job, the point-in-time builder, the server, the oracle in the tests) goes
/// through these functions.
///
/// Time is cut into tiles of the hop h: tile k holds events with event time in [k·h, (k+1)·h).
/// A window of length w (a multiple of h) as of the instant t covers the events with event time in
///
///     [ floor(t / h)·h − w , t )
///
/// that is, the tiles from floor(t / h) − w/h up to the tile holding the instant just before t.
/// Its start is the window's true start rounded down to a tile boundary, so it spans between w
/// and w + h; its end is exact, and an event at exactly t is never included (a feature at t
/// uses only events strictly before t, so the event being scored is never its own feature).
///
/// Worked example (w = 5m, h = 1m, t = 12:03:30): the window covers [11:58:00, 12:03:30), the
/// tiles 11:58, 11:59, 12:00, 12:01, 12:02 and the part of 12:03 before 12:03:30. At
/// t = 12:04:00 it covers [11:59:00, 12:04:00), exactly five minutes, and the event at 11:58:30
/// has left it. See docs/semantics.md.
public enum WindowRule {
    /// The tile an event at `time` falls in.
    @inlinable
    public static func tile(of time: Micros, hop: Micros) -> Int64 {
        Timestamp.floorDiv(time, hop)
    }

    /// The tiles covered as of `t`: first ... last (empty when last < first, which cannot happen
    /// for w ≥ h).
    @inlinable
    public static func coveredTiles(asOf t: Micros, window: Micros, hop: Micros) -> (first: Int64, last: Int64) {
        (Timestamp.floorDiv(t, hop) - window / hop, Timestamp.floorDiv(t - 1, hop))
    }

    /// Whether an event at `time` is in the window as of `t`: the same rule over instants, for
    /// oracles and for readers that hold raw events.
    @inlinable
    public static func contains(_ time: Micros, asOf t: Micros, window: Micros, hop: Micros) -> Bool {
        time < t && time >= Timestamp.floorDiv(t, hop) * hop - window
    }

    /// How many tiles state must keep so that every read after its latest event is answered.
    @inlinable
    public static func tileCount(window: Micros, hop: Micros) -> Int { Int(window / hop) + 1 }

    /// TTL: an entity whose latest event is more than `ttl` before t reads as missing. At exactly
    /// `ttl` it is still present (Feast's rule: present when t − ttl ≤ latest event).
    @inlinable
    public static func isExpired(lastEvent: Micros, asOf t: Micros, ttl: Micros) -> Bool {
        t - lastEvent > ttl
    }
}
