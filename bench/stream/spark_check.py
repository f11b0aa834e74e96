"""Spot-checks what spark_run.py wrote to Redis against a brute-force oracle over the same input:
    spark_check.py INPUT_DIR --redis URL [--sample N]

The oracle shares no code with spark_run.py's Spark side: it admits events one by one in arrival
order as docs/semantics.md §1 says (late beyond 10 minutes dropped, duplicates by event_id within
the watermark folded once), then computes each feature of a sample of entities from the admitted
events with event time in the window, by brute force. Entities are compared as of the stream's
end (t = the latest event time + 1 µs, as a server reads) and at the last whole hour before it (a
tile boundary of every window; TTLs not applied there). Sessions are compared at their own end,
for the sessions Spark has written (closed ones: see spark_run.py). Every mismatch is also
recomputed with the late events admitted, which tells a difference of admission from an error.
Prints a JSON report."""
import argparse
import datetime
import decimal
import glob
import json
import math
import os
import random
import sys
from collections import defaultdict

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spark_run import TTL_S, read_features  # noqa: E402  (the reader of the Spark side's layout)

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
LATENESS = 600 * 1_000_000


def micros(text):
    return (datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")) - EPOCH) \
        // datetime.timedelta(microseconds=1)


def admit(paths):
    """Events in arrival order: (event, time µs, admitted by fsml's rules); duplicates left out.
    A late event is kept, marked not admitted, unless its event_id came before (what Spark does
    with late events inside a micro-batch: deduplicated, folded)."""
    clock, seen, out = None, {}, []
    ever = set()
    for path in paths:
        for line in open(path):
            e = json.loads(line)
            t = micros(e["event_ts"])
            mark = None if clock is None else clock - LATENESS
            if mark is not None and t < mark:
                if e["event_id"] not in ever:
                    out.append((e, t, False))
                    ever.add(e["event_id"])
                continue
            prev = seen.get(e["event_id"])
            if prev is not None and (mark is None or prev >= mark):
                continue  # a duplicate: folded once, whatever the admission variant
            seen[e["event_id"]] = t
            ever.add(e["event_id"])
            clock = t if clock is None else max(clock, t)
            out.append((e, t, True))
    return out


def keys_of(e):
    u, p = e.get("user_id"), e.get("product_id")
    ks = {"user": u}
    if p is not None:
        ks["product"], ks["user_product"] = p, f"{u}|{p}"
    return ks


def oracle(events, entity, key, t, apply_ttl=True):
    """Brute force over the events of one entity: [floor(t/h)·h − w, t) per feature."""
    mine = [(e, ts) for e, ts in events if keys_of(e).get(entity) == key and ts < t]
    if not mine or (apply_ttl and max(ts for _, ts in mine) < t - TTL_S[entity] * 1_000_000):
        return None
    # TTL start-overs: only the current life counts (gaps longer than the TTL, in arrival order).
    life, last = [], None
    for e, ts in mine:
        if last is not None and ts - last > TTL_S[entity] * 1_000_000:
            life = []
        life.append((e, ts))
        last = ts if last is None else max(last, ts)

    def count(kind, hop, window):
        lo = (t // 1_000_000 // hop) * hop * 1_000_000 - window * 1_000_000
        return sum(1 for e, ts in life if e["event_type"] == kind and lo <= ts)

    def prices(kind):
        lo = (t // 1_000_000 // 3600) * 3600 * 1_000_000 - 86400 * 1_000_000
        return [int(decimal.Decimal(e["price"] * 1e6).quantize(0, decimal.ROUND_HALF_UP))
                for e, ts in life if e["event_type"] == kind and lo <= ts and e.get("price") is not None]

    ratio = lambda a, b: a / b if b else None  # noqa: E731
    if entity == "user":
        v, b = count("page_view", 3600, 86400), count("purchase", 3600, 86400)
        return {"user_views_5m": count("page_view", 60, 300), "user_add2cart_1h": count("add_to_cart", 300, 3600),
                "user_purchases_24h": b, "user_views_24h": v, "user_cr_24h": ratio(b, v)}
    if entity == "product":
        v, c, a = count("page_view", 3600, 86400), count("add_to_cart", 3600, 86400), prices("page_view")
        n = len(a)
        mean = sum(a) / 1e6 / n if n else None
        std = math.sqrt(sum((x / 1e6 - sum(a) / 1e6 / n) ** 2 for x in a) / n) if n else None
        return {"prod_views_24h": v, "prod_add2cart_24h": c, "prod_ctr_24h": ratio(c, v),
                "prod_rev_24h": sum(prices("purchase")) / 1e6, "prod_avg_price_24h": mean, "prod_price_std_24h": std}
    views = [ts for e, ts in life if e["event_type"] == "page_view"]
    c, b = count("add_to_cart", 3600, 86400), count("purchase", 3600, 86400)
    return {"up_views_1h": count("page_view", 300, 3600), "up_views_24h": count("page_view", 3600, 86400),
            "up_carts_24h": c, "up_purchases_24h": b, "up_in_cart": int(c > b),
            "up_since_view_s": (t - max(views)) / 1e6 if views else None}


def same(a, b):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def sessions(events):
    """Every session life: (user|session) -> list of [first, last, products]."""
    out = defaultdict(list)
    for e, ts in events:
        if e.get("session_id") is None:
            continue
        lives = out[f"{e['user_id']}|{e['session_id']}"]
        if not lives or ts - lives[-1][1] > TTL_S["session"] * 1_000_000:
            lives.append([ts, ts, set()])
        life = lives[-1]
        life[0], life[1] = min(life[0], ts), max(life[1], ts)
        if e.get("product_id") is not None:
            life[2].add(e["product_id"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input_dir")
    ap.add_argument("--redis", required=True)
    ap.add_argument("--sample", type=int, default=300)
    args = ap.parse_args()
    r = redis.Redis.from_url(args.redis)
    arrivals = admit(sorted(glob.glob(os.path.join(args.input_dir, "*.json"))))
    strict = [(e, ts) for e, ts, ok in arrivals if ok]
    lenient = [(e, ts) for e, ts, _ in arrivals]
    end = max(ts for _, ts in strict)
    by_entity = defaultdict(list)
    for e, ts in strict:
        for entity, key in keys_of(e).items():
            by_entity[(entity, key)].append((e, ts))
    per_entity = {"strict": by_entity}
    lenient_by = defaultdict(list)
    for e, ts in lenient:
        for entity, key in keys_of(e).items():
            lenient_by[(entity, key)].append((e, ts))
    rng = random.Random(7)
    report = {"events": len(arrivals), "admitted": len(strict), "late": len(arrivals) - len(strict),
              "end_us": end, "checks": {}}
    hour = (end // 3_600_000_000) * 3_600_000_000
    for entity in ["user", "product", "user_product"]:
        keys = sorted({k for (ent, k) in by_entity if ent == entity})
        recent = [k for k in keys if by_entity[(entity, k)][-1][1] > end - 3_600_000_000]
        picked = rng.sample(recent, min(len(recent), args.sample // 2)) + rng.sample(keys, min(len(keys), args.sample // 2))
        for label, t, ttl in [("now", end + 1, True), ("last_hour", hour, False)]:
            stats = defaultdict(lambda: {"compared": 0, "equal": 0, "equal_if_late_admitted": 0, "other": []})
            for key in picked:
                want = oracle(per_entity["strict"][(entity, key)], entity, key, t, ttl)
                got = read_features(r, entity, key, t, ttl)
                alt = oracle(lenient_by[(entity, key)], entity, key, t, ttl)
                for name in (want or alt or got or {}):
                    w = None if want is None else want.get(name)
                    g = None if got is None else got.get(name)
                    a = None if alt is None else alt.get(name)
                    if not ttl and (want is None or name == "up_since_view_s"):
                        continue  # no event before t; the latest view is kept as of the end only
                    s = stats[name]
                    s["compared"] += 1
                    if same(w, g):
                        s["equal"] += 1
                    elif same(a, g):
                        s["equal_if_late_admitted"] += 1
                    elif len(s["other"]) < 3:
                        s["other"].append({"key": key, "oracle": w, "spark": g})
            report["checks"][f"{entity}@{label}"] = dict(stats)
    # Sessions: those Spark wrote (closed), at their own end.
    lives = sessions(strict)
    lives_lenient = sessions(lenient)
    written = [k.decode()[len("spark:session:"):] for k in r.scan_iter("spark:session:*", count=10000)]
    s = {"written": len(written), "open_or_unwritten_in_oracle": 0, "compared": 0, "equal": 0,
         "equal_if_late_admitted": 0, "other": []}
    s["open_or_unwritten_in_oracle"] = sum(len(v) for v in lives.values()) - len(written)
    for key in rng.sample(written, min(len(written), args.sample)):
        got = r.hgetall(f"spark:session:{key}")
        g = ((int(got[b"last"]) - int(got[b"first"])) / 1e6, int(got[b"products"]))
        first = int(got[b"first"])

        def match(lv):
            return any((life[1] - life[0]) / 1e6 == g[0] and len(life[2]) == g[1] for life in lv.get(key, [])
                       if life[0] == first)
        s["compared"] += 1
        if match(lives):
            s["equal"] += 1
        elif match(lives_lenient):
            s["equal_if_late_admitted"] += 1
        elif len(s["other"]) < 3:
            s["other"].append({"key": key, "spark": g, "oracle": [(a, b, len(c)) for a, b, c in lives.get(key, [])]})
    report["checks"]["session@own_end"] = s
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
