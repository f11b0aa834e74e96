"""A small hand-made event file for checking a point-in-time formulation at the edges of the rules
(docs/semantics.md): events of equal time, tile and window boundaries, TTL expiry at and just past
the TTL, session and user x product restarts, late events (admitted and too late), duplicates,
labels at t and at t + 30m, micro-unit rounding of prices. A background user keeps the clock moving.
    edge_events.py OUT.jsonl"""
import json
import sys
from datetime import datetime, timedelta, timezone

T0 = datetime(2025, 3, 3, tzinfo=timezone.utc)
MS = timedelta(milliseconds=1)


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main():
    events = []  # (arrival key, event)
    n = [0]

    def add(t, user, product, kind="page_view", session=None, price=10.0, arrive=None, event_id=None):
        n[0] += 1
        events.append((arrive or t, n[0], {
            "event_id": event_id or f"e{n[0]}", "event_ts": stamp(t), "user_id": user, "session_id": session or f"s_{user}",
            "event_type": kind, "product_id": product, "price": price}))

    # Background: the clock moves every 10 minutes for 11 days.
    for i in range(11 * 144):
        add(T0 + timedelta(minutes=10 * i) + 7 * MS, "ubg", "pbg", "page_view" if i % 5 else "purchase", price=1.5)
    h = timedelta(hours=1)
    # Equal times: three views and a cart at one instant; none sees another.
    t = T0 + h
    for kind in ["page_view", "page_view", "add_to_cart", "page_view"]:
        add(t, "u1", "p1", kind, price=8.2)
    add(t + MS, "u1", "p1")
    # Tile and window boundaries (1m, 5m, 1h hops).
    b = T0 + 2 * h
    for dt in [timedelta(0), timedelta(minutes=4, seconds=59, milliseconds=999), timedelta(minutes=5), timedelta(minutes=6),
               timedelta(hours=1), timedelta(hours=24), timedelta(hours=24, minutes=5), timedelta(hours=25)]:
        add(b + dt, "u2", "p2", price=0.0000005)
        add(b + dt, "u2b", "p2", "add_to_cart", price=2.0000005)
    # Session restarts: a gap of 2h + 1 ms (restart), then one of exactly 2h (no restart).
    s = T0 + 3 * h
    for dt in [timedelta(0), h, 3 * h + 2 * MS, 5 * h + 3 * MS, 5 * h + 4 * MS]:
        add(s + dt, "u3", "p3", session="s3")
        add(s + dt + MS, "u3", "p3b", session="s3")
    # User / user x product TTL 7d: present at exactly 7d, restarted just past it; a cart starts the
    # new life, so the time since the last view is missing until the next view.
    u = T0 + 4 * h
    add(u, "u4", "p4")
    add(u + timedelta(days=7), "u4", "p4")
    add(u, "u5", "p5")
    add(u + timedelta(days=7) + MS, "u5", "p5", "add_to_cart")
    add(u + timedelta(days=7) + 2 * MS, "u5", "p5")
    add(u + timedelta(days=7) + 3 * MS, "u5", "p5")
    # Product TTL 3d: at exactly 3d and past it.
    p = T0 + 5 * h
    add(p, "u6", "p6", "purchase", price=3.3)
    add(p + timedelta(days=3), "u6b", "p6", price=4.4)
    add(p + timedelta(days=3) + h, "u6c", "p6", price=5.5)
    add(p + timedelta(days=6, hours=1, milliseconds=1), "u6d", "p6", price=6.6)
    # Labels: a cart at t (not in (t, t + 30m]), at t + 30m (positive), at t + 30m + 1 ms (negative).
    lab = T0 + 6 * h
    add(lab, "u7", "p7")
    add(lab, "u7", "p7", "add_to_cart")
    add(lab + timedelta(hours=2), "u7", "p8")
    add(lab + timedelta(hours=2, minutes=30), "u7", "p8", "add_to_cart")
    add(lab + timedelta(hours=4), "u7", "p9")
    add(lab + timedelta(hours=4, minutes=30, milliseconds=1), "u7", "p9", "add_to_cart")
    # Late events: one 5 minutes late (admitted; counts by event time), one 20 minutes late (dropped),
    # and a duplicate id (folded once).
    late = T0 + 8 * h
    add(late, "u8", "p10", "add_to_cart", arrive=late + timedelta(minutes=5))
    add(late + timedelta(minutes=1), "u8", "p10")
    add(late + timedelta(minutes=2), "u8", "p10", "add_to_cart", arrive=late + timedelta(minutes=22))
    add(late + timedelta(minutes=3), "u8", "p10")
    add(late + timedelta(minutes=3), "u8", "p10", event_id="dup1")
    add(late + timedelta(minutes=4), "u8", "p10", event_id="dup1")
    events.sort(key=lambda e: (e[0], e[1]))
    with open(sys.argv[1], "w") as f:
        for _, _, e in events:
            f.write(json.dumps(e) + "\n")


if __name__ == "__main__":
    main()
