"""The Spark Structured Streaming side of the stream benchmark, in its own process:
    spark_run.py INPUT_DIR EVENTS --redis URL [--max-files-per-trigger N]

Spark computes the reference project's features (fsml.yaml) as a Spark expert would for a feature
store, and writes them to Redis:

- Admission: the JSON file source (`Trigger.AvailableNow`, micro-batches sized by Spark unless
  --max-files-per-trigger is given), a 10-minute watermark on the event time and
  `dropDuplicatesWithinWatermark("event_id")` in every query. Spark's watermark moves between
  micro-batches only: an event more than 10 minutes late is dropped when an earlier micro-batch
  has moved the watermark past it (and its tile is closed), folded when it comes in the same
  micro-batch as the events it trails. fsml decides per event. Making Spark's micro-batches span
  less event time than the allowed lateness would take ~1,900 events per micro-batch here
  (hundreds of micro-batches of four queries); Spark sizes them instead, and the difference is
  stated by spark_check.py (the late events are 0.75 % of the input).
- Sliding windows as tiles. A window w sliding by hop h is kept as streaming aggregations over
  tumbling event-time windows of h ("tiles"): one state row per entity and tile, updated in place
  (update output mode) and evicted by the watermark. Each micro-batch's updated tiles go to Redis
  (`spark:<entity>:<key>:<hop s>:<tile start s>`, its fields comma-separated, expiring once out of
  every window), and a read at t combines the w/h + 1 tiles
  `[floor(t/h)·h − w, t)` (`read_features` below): the layout of Chronon and Tecton, and fsml's
  own (its state is per tile too). Spark's sliding `window(ts, w, h)` would keep and emit w/h rows
  per event and key instead (24 for a 24-hour window sliding by the hour): 14 M state rows, all to
  be written, for 500 k events, against about 1.2 M tiles.
  Three tile queries: 1 minute (user views 5 m), 5 minutes (user add-to-carts 1 h, user-product
  views 1 h), 1 hour (every 24-hour feature of user, product and user-product, and the latest event
  and latest page view per entity). Sums and moments are kept in micro-units (round(price·10⁶)) as
  exact integers, as fsml does.
- Sessions: `session_window(ts, "2 hours")` per (user_id, session_id) with first and latest event
  time and the set of products; Spark supports session windows in append mode only, so a session
  reaches Redis (`spark:session:<user>|<session>`) once the watermark passes its end (latest event
  + 2 h), not while it is open. fsml's session is the life of the session entity (TTL 2 h): it
  serves the open session's duration and products at once, and restarts after a gap of more than
  2 h in arrival order (Spark: a gap of 2 h or more, in event time).
- Entities: `spark:<entity>:<key>` holds the latest event time (and, for user_product, the latest
  page view), in microseconds, kept as the maximum by a Lua script, with the entity's TTL: the
  reader applies the TTL as of t (missing when the latest event is more than TTL before t). The
  latest page view is kept over the whole stream, not per life of the pair (fsml forgets it after
  7 days without an event for the pair; no such gap occurs in the benchmark's input).

State store: RocksDB with changelog checkpointing; spark.sql.shuffle.partitions = 2 (the cores).
Prints one JSON line: seconds from the queries' start to all of them done, events, events per
second, CPU seconds of the whole process tree (JVM start included), rows written to Redis per
query, micro-batches, Redis keys."""
import argparse
import json
import os
import shutil
import sys
import time

TILES = {  # tile query: its tile in seconds
    "tiles_1m": 60,
    "tiles_5m": 300,
    "tiles_1h": 3600,
}
TTL_S = {"user": 7 * 86400, "product": 3 * 86400, "session": 2 * 3600, "user_product": 7 * 86400}
# Per tile size, what its Redis values hold (comma-separated, empty for none).
TILE_FIELDS = {60: ["views"], 300: ["carts", "views"],
               3600: ["views", "carts", "purchases", "revenue_u", "price_n", "price_sum_u", "price_sumsq_u2"]}
# Per tile size, the longest window it serves: tiles older than that + a hop expire in Redis.
LONGEST_S = {60: 300, 300: 3600, 3600: 86400}
FEATURES = ["user_views_5m", "user_add2cart_1h", "user_purchases_24h", "user_views_24h", "user_cr_24h",
            "prod_views_24h", "prod_add2cart_24h", "prod_ctr_24h", "prod_rev_24h", "prod_avg_price_24h",
            "prod_price_std_24h", "sess_duration_s", "sess_unique_products", "up_views_1h", "up_views_24h",
            "up_since_view_s", "up_carts_24h", "up_purchases_24h", "up_in_cart"]

# Keeps the latest event time (and latest page view) of an entity as the maximum of what was
# offered, and the entity's TTL. KEYS[1] entity key; ARGV: last µs, last view µs or '', ttl ms.
LIFE_LUA = """
local cur = redis.call('HGET', KEYS[1], 'last')
if not cur or tonumber(cur) < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'last', ARGV[1]) end
if ARGV[2] ~= '' then
  local v = redis.call('HGET', KEYS[1], 'last_view')
  if not v or tonumber(v) < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], 'last_view', ARGV[2]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0
"""


def pipeline(url):
    """A Redis client and a pipeline without MULTI, opened inside a Spark task."""
    import redis
    r = redis.Redis.from_url(url)
    return r, r.pipeline(transaction=False)


def sent_every(pipe, n, every=2000):
    """Sends the pipeline's queued commands every `every` of them, so that a partition's
    pipeline stays bounded."""
    if n % every == 0:
        pipe.execute()


def per_partition(write_partition):
    """The foreachBatch function that runs `write_partition` on each partition of a batch."""
    def write(df, batch_id):
        df.foreachPartition(write_partition)
    return write


def tile_writer(url, hop, counter):
    """foreachBatch for a tile query: each partition writes its updated tiles to Redis with
    pipelined SET ... PX (the tile's fields in TILE_FIELDS order, comma-separated), then the latest
    times of the entities it saw through LIFE_LUA, once per entity."""
    names = TILE_FIELDS[hop]

    def write_partition(rows):
        r, pipe = pipeline(url)
        lives = {}
        n = 0
        for row in rows:
            rk = f"spark:{row.entity}:{row.key}"
            value = ",".join("" if row[f] is None else str(row[f]) for f in names)
            # A tile leaves every window it serves a hop after the longest of them; Redis counts
            # wall time, so an hour of slack lets a replay's reader (spark_check.py) find it.
            pipe.set(f"{rk}:{hop}:{row.tile}", value, px=(LONGEST_S[hop] + 2 * hop + 3600) * 1000)
            if hop == 3600:  # the query that keeps the entities' latest times
                life = lives.setdefault((row.entity, rk), [0, -1])
                life[0] = max(life[0], row["last"])
                if row["last_view"] is not None:
                    life[1] = max(life[1], row["last_view"])
            n += 1
            sent_every(pipe, n)
        pipe.execute()
        if lives:
            sha = r.script_load(LIFE_LUA)
            for i, ((entity, rk), (last, view)) in enumerate(lives.items(), 1):
                pipe.evalsha(sha, 1, rk, last, view if view >= 0 else "", TTL_S[entity] * 1000)
                sent_every(pipe, i)
            pipe.execute()
        counter.add(n)

    return per_partition(write_partition)


def session_writer(url, counter):
    def write_partition(rows):
        _, pipe = pipeline(url)
        n = 0
        for row in rows:
            rk = f"spark:session:{row['user_id']}|{row['session_id']}"
            pipe.hset(rk, mapping={"first": row["first"], "last": row["last"], "products": row["products"]})
            pipe.pexpire(rk, TTL_S["session"] * 1000)
            n += 1
            sent_every(pipe, n)
        pipe.execute()
        counter.add(n)

    return per_partition(write_partition)


def build_queries(spark, input_dir, max_files):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    schema = T.StructType([
        T.StructField("event_id", T.StringType()), T.StructField("event_ts", T.StringType()),
        T.StructField("user_id", T.StringType()), T.StructField("session_id", T.StringType()),
        T.StructField("event_type", T.StringType()), T.StructField("product_id", T.StringType()),
        T.StructField("price", T.DoubleType()),
    ])

    def events():
        reader = spark.readStream.schema(schema)
        if max_files:
            reader = reader.option("maxFilesPerTrigger", max_files)
        return (reader.json(input_dir)
                .withColumn("ts", F.try_to_timestamp("event_ts"))
                .where(F.col("ts").isNotNull() & F.col("user_id").isNotNull() & F.col("event_id").isNotNull())
                .withWatermark("ts", "10 minutes")
                .dropDuplicatesWithinWatermark(["event_id"]))

    is_view = F.col("event_type") == "page_view"
    is_cart = F.col("event_type") == "add_to_cart"
    is_buy = F.col("event_type") == "purchase"
    micros = F.round(F.col("price") * 1_000_000).cast("long")  # micro-units, halves away from zero
    up_key = F.concat(F.col("user_id"), F.lit("|"), F.col("product_id"))

    def keyed(*entities):
        cols = {"user": F.col("user_id"), "product": F.col("product_id"), "user_product": up_key}
        return F.explode(F.array(*[F.struct(F.lit(e).alias("entity"), cols[e].alias("key")) for e in entities]))

    def tiles(df, seconds, *aggs):
        return (df.groupBy(F.window("ts", f"{seconds} seconds").alias("w"), "entity", "key").agg(*aggs)
                .withColumn("tile", F.unix_seconds(F.col("w.start"))).drop("w"))

    queries = {}
    # 1-minute tiles: user_views_5m.
    q = events().where(is_view).select("ts", keyed("user").alias("e")).select("ts", "e.*")
    queries["tiles_1m"] = tiles(q, 60, F.count("*").alias("views"))
    # 5-minute tiles: user_add2cart_1h (user), up_views_1h (user_product).
    q = (events().where(is_view | is_cart).where(F.col("product_id").isNotNull() | is_cart)
         .select("ts", "event_type", keyed("user", "user_product").alias("e")).select("ts", "event_type", "e.*")
         .where(F.col("key").isNotNull())
         .where(((F.col("entity") == "user") & is_cart) | ((F.col("entity") == "user_product") & is_view)))
    queries["tiles_5m"] = tiles(q, 300, F.count_if(is_cart).alias("carts"), F.count_if(is_view).alias("views"))
    # 1-hour tiles: every 24-hour feature, and the entities' latest event and latest page view.
    q = (events().select("ts", "event_type", "price", keyed("user", "product", "user_product").alias("e"))
         .select("ts", "event_type", "price", "e.*").where(F.col("key").isNotNull()))
    view_a = F.when(is_view, micros)
    queries["tiles_1h"] = tiles(
        q, 3600,
        F.count_if(is_view).alias("views"), F.count_if(is_cart).alias("carts"), F.count_if(is_buy).alias("purchases"),
        F.sum(F.when(is_buy, micros)).alias("revenue_u"),
        F.count(view_a).alias("price_n"), F.sum(view_a).alias("price_sum_u"),
        F.sum(view_a.cast("decimal(38,0)") * view_a.cast("decimal(38,0)")).cast("string").alias("price_sumsq_u2"),
        F.unix_micros(F.max("ts")).alias("last"), F.unix_micros(F.max(F.when(is_view, F.col("ts")))).alias("last_view"))
    # Sessions: session windows with the session entity's TTL (2 h) as the gap.
    queries["sessions"] = (events().where(F.col("session_id").isNotNull())
                           .groupBy(F.session_window("ts", "2 hours"), "user_id", "session_id")
                           .agg(F.unix_micros(F.min("ts")).alias("first"), F.unix_micros(F.max("ts")).alias("last"),
                                F.size(F.collect_set("product_id")).alias("products"))
                           .drop("session_window"))
    return queries


# What each served feature reads: (tile seconds, window seconds, tile field).
WINDOWED = {
    "user": {"user_views_5m": (60, 300, "views"), "user_add2cart_1h": (300, 3600, "carts"),
             "user_purchases_24h": (3600, 86400, "purchases"), "user_views_24h": (3600, 86400, "views")},
    "product": {"prod_views_24h": (3600, 86400, "views"), "prod_add2cart_24h": (3600, 86400, "carts"),
                "prod_rev_24h": (3600, 86400, "revenue_u"), "price_n": (3600, 86400, "price_n"),
                "price_sum_u": (3600, 86400, "price_sum_u"), "price_sumsq_u2": (3600, 86400, "price_sumsq_u2")},
    "user_product": {"up_views_1h": (300, 3600, "views"), "up_views_24h": (3600, 86400, "views"),
                     "up_carts_24h": (3600, 86400, "carts"), "up_purchases_24h": (3600, 86400, "purchases")},
}


def read_features(r, entity, key, t, apply_ttl=True):
    """The features of one entity as of t (µs since the epoch) from what spark_run.py wrote: the
    tiles of [floor(t/h)·h − w, t) combined, the entity's TTL applied as of t (fsml's rules,
    docs/semantics.md). None is missing. Exact when the tiles hold no event at or after t."""
    life = r.hgetall(f"spark:{entity}:{key}")
    last = int(life[b"last"]) if b"last" in life else None
    if apply_ttl and (last is None or last < t - TTL_S[entity] * 1_000_000):
        return None
    if entity == "session":
        return {"sess_duration_s": (last - int(life[b"first"])) / 1e6, "sess_unique_products": int(life[b"products"])}
    wanted = {}
    for name, (hop, window, field) in WINDOWED[entity].items():
        first = (t // 1_000_000 // hop) * hop - window
        for s in range(first, first + window + hop, hop):
            if s * 1_000_000 < t:
                wanted.setdefault((hop, s), []).append((name, field))
    pipe = r.pipeline(transaction=False)
    order = sorted(wanted)
    for hop, s in order:
        pipe.get(f"spark:{entity}:{key}:{hop}:{s}")
    sums = {name: 0 for name in WINDOWED[entity]}
    for (hop, s), tile in zip(order, pipe.execute()):
        if tile is None:
            continue
        values = dict(zip(TILE_FIELDS[hop], tile.decode().split(",")))
        for name, field in wanted[(hop, s)]:
            sums[name] += int(values[field] or 0)
    out = dict(sums)
    ratio = lambda a, b: a / b if b else None  # noqa: E731
    if entity == "user":
        out["user_cr_24h"] = ratio(sums["user_purchases_24h"], sums["user_views_24h"])
    elif entity == "product":
        n, sa, sa2 = out.pop("price_n"), out.pop("price_sum_u"), out.pop("price_sumsq_u2")
        out["prod_ctr_24h"] = ratio(sums["prod_add2cart_24h"], sums["prod_views_24h"])
        out["prod_rev_24h"] = sums["prod_rev_24h"] / 1e6
        out["prod_avg_price_24h"] = sa / 1e6 / n if n else None
        out["prod_price_std_24h"] = ((n * sa2 - sa * sa) / float(n * n) / 1e12) ** 0.5 if n else None
    else:
        out["up_in_cart"] = int(sums["up_carts_24h"] > sums["up_purchases_24h"])
        view = int(life[b"last_view"]) if b"last_view" in life else None
        out["up_since_view_s"] = (t - view) / 1e6 if view is not None and view < t else None
    return out


def tree_cpu_seconds(pid):
    """User + system CPU of a process and every descendant (the JVM, the Python workers; reaped
    workers are in their parent's cutime)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tick
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{task}/children").read().split()]
        except OSError:
            pass
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input_dir")
    ap.add_argument("events", type=int)
    ap.add_argument("--redis", required=True, help="redis://host:port/db, where the features go")
    ap.add_argument("--max-files-per-trigger", type=int, default=0,
                    help="cap on files per micro-batch (0: Spark sizes micro-batches itself)")
    ap.add_argument("--sink", choices=["redis", "noop"], default="redis",
                    help="noop: the same queries into the no-op sink (what Spark costs without the writes)")
    ap.add_argument("--checkpoints", help="checkpoint directory (default: beside INPUT_DIR)")
    args = ap.parse_args()
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the Python workers that write to Redis: this venv's
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]").appName("fsml-stream-bench")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.streaming.stateStore.providerClass",
                     "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider")
             .config("spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled", "true")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "2g")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    checkpoints = args.checkpoints or os.path.join(os.path.dirname(os.path.abspath(args.input_dir)), "spark-checkpoints")
    shutil.rmtree(checkpoints, ignore_errors=True)
    start = time.perf_counter()
    counters, running = {}, {}
    for name, df in build_queries(spark, args.input_dir, args.max_files_per_trigger).items():
        counters[name] = spark.sparkContext.accumulator(0)
        if args.sink == "noop":
            writer = lambda df, _: df.write.format("noop").mode("overwrite").save()  # noqa: E731
            mode = "append" if name == "sessions" else "update"
        elif name == "sessions":
            writer, mode = session_writer(args.redis, counters[name]), "append"
        else:
            writer, mode = tile_writer(args.redis, TILES[name], counters[name]), "update"
        running[name] = (df.writeStream.queryName(name).outputMode(mode).foreachBatch(writer)
                         .trigger(availableNow=True).option("checkpointLocation", f"{checkpoints}/{name}").start())
    for q in running.values():
        q.awaitTermination()
    seconds = time.perf_counter() - start
    cpu = tree_cpu_seconds(os.getpid())
    import redis
    keys = redis.Redis.from_url(args.redis).dbsize()
    report = {"seconds": seconds, "events": args.events, "events_per_second": args.events / seconds,
              "cpu_seconds": cpu,
              "features": FEATURES, "queries": list(running), "sink": "redis (foreachBatch, pipelined)" if args.sink == "redis" else "noop",
              "trigger": "AvailableNow" + (f", maxFilesPerTrigger {args.max_files_per_trigger}"
                                           if args.max_files_per_trigger else ""),
              "rows_written": {n: c.value for n, c in counters.items()},
              "micro_batches": {n: len([p for p in q.recentProgress if p["numInputRows"] > 0]) for n, q in running.items()},
              "input_rows": {n: sum(p["numInputRows"] for p in q.recentProgress) for n, q in running.items()},
              "redis_keys": keys,
              "duration_ms": {n: {k: sum(p["durationMs"].get(k, 0) for p in q.recentProgress)
                                  for k in ["addBatch", "queryPlanning", "getBatch", "latestOffset", "walCommit",
                                            "commitOffsets", "triggerExecution"]} for n, q in running.items()},
              "batches_all": {n: len(q.recentProgress) for n, q in running.items()}}
    print(json.dumps(report))
    spark.stop()


if __name__ == "__main__":
    sys.exit(main())
