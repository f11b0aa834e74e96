-- The rows of `fsml build --event-time-only` for the reference project (fsml.yaml), computed by
-- DuckDB from the offline store's Parquet files: the fastest exact formulation we could write.
-- The rules (docs/semantics.md): an example (a page view) at t sees the admitted events with event
-- time strictly before t; a sliding window of w with hop h covers [floor(t / h) * h - w, t); an
-- entity whose latest event before t is more than its TTL before t is missing (every feature null);
-- sessions and lifetimes start over at an event more than the TTL after the previous one in
-- (event time, _seq) order; sums and moments in micro-units, exact.
-- Parameters: {events} (a Parquet glob of the offline store), {lateness_us} (the allowed lateness,
-- or the store's max_lag_us when larger: it decides which examples are too recent to label).
--
-- Times are integer microseconds, so "strictly before t" is a RANGE frame ending at 1 PRECEDING
-- (events at exactly t, the example's own included, never count), and a window's start is a
-- per-row offset: t - (floor(t / h) * h - w) = t % h + w. Every window here (at most 25h) is
-- shorter than its entity's TTL, so a restart cannot reach into one; only the session and lifetime
-- aggregates need the restart flag.

-- Dense integer keys and per-type indicator columns: windows then partition on integers and sum
-- plain columns (a FILTER clause on a window aggregate is several times slower in DuckDB).
CREATE OR REPLACE TEMP TABLE raw AS
SELECT _seq AS seq, epoch_us(event_ts) AS ts, user_id, session_id, product_id,
       CASE event_type WHEN 'page_view' THEN 0 WHEN 'add_to_cart' THEN 1 WHEN 'purchase' THEN 2 END::TINYINT AS typ,
       round(price * 1000000)::BIGINT AS a
FROM read_parquet('{events}');

CREATE OR REPLACE TEMP TABLE users AS SELECT user_id, row_number() OVER ()::INTEGER AS u FROM (SELECT DISTINCT user_id FROM raw);
CREATE OR REPLACE TEMP TABLE products AS SELECT product_id, row_number() OVER ()::INTEGER AS p FROM (SELECT DISTINCT product_id FROM raw);
CREATE OR REPLACE TEMP TABLE sessions AS
SELECT user_id, session_id, row_number() OVER ()::INTEGER AS s FROM (SELECT DISTINCT user_id, session_id FROM raw);

CREATE OR REPLACE TEMP TABLE ev AS
SELECT r.seq, r.ts, r.typ, u.u, p.p, s.s, (u.u::BIGINT << 32) | p.p AS up,
       (r.typ = 0)::INTEGER AS v, (r.typ = 1)::INTEGER AS c, (r.typ = 2)::INTEGER AS b,
       CASE WHEN r.typ = 0 THEN r.a ELSE 0 END AS av,
       CASE WHEN r.typ = 0 THEN r.a::HUGEINT * r.a ELSE 0 END AS avv,
       CASE WHEN r.typ = 2 THEN r.a ELSE 0 END AS ab
FROM raw r JOIN users u USING (user_id) JOIN products p USING (product_id) JOIN sessions s USING (user_id, session_id);
DROP TABLE raw;

-- User (7d TTL): RANGE frames per user; a user's events are few, so these are cheap. Each table
-- below ends with its finished feature columns for the examples (page views) only. A sum over an
-- empty frame is null in SQL and 0 in fsml while the entity is present.
CREATE OR REPLACE TEMP TABLE uf AS
SELECT seq,
  CASE WHEN latest >= ts - 604800000000 THEN coalesce(views_5m, 0) END::DOUBLE AS user_views_5m,
  CASE WHEN latest >= ts - 604800000000 THEN coalesce(carts_1h, 0) END::DOUBLE AS user_add2cart_1h,
  CASE WHEN latest >= ts - 604800000000 AND views_24h > 0 THEN buys_24h / views_24h END AS user_cr_24h
FROM (
  SELECT seq, ts, typ,
    sum(v) OVER (PARTITION BY u ORDER BY ts RANGE BETWEEN ts % 60000000 + 300000000 PRECEDING AND 1 PRECEDING) AS views_5m,
    sum(c) OVER (PARTITION BY u ORDER BY ts RANGE BETWEEN ts % 300000000 + 3600000000 PRECEDING AND 1 PRECEDING) AS carts_1h,
    sum(b) OVER d AS buys_24h,
    sum(v) OVER d AS views_24h,
    max(ts) OVER (PARTITION BY u ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS latest
  FROM ev
  WINDOW d AS (PARTITION BY u ORDER BY ts RANGE BETWEEN ts % 3600000000 + 86400000000 PRECEDING AND 1 PRECEDING))
WHERE typ = 0;

-- Product (3d TTL): popularity is very skewed (one product has ~9% of all events), and frames over
-- a long partition are slow, so 24h/1h windows are hour tiles: the 24 whole tiles before the
-- example's hour (a window over the small tile table) plus the example's own hour before t (a
-- frame over that one tile's events). The latest event before t, for the TTL, is the latest in
-- that partial hour or else the latest of the previous tile with events.
CREATE OR REPLACE TEMP TABLE ptile AS
SELECT p, ts // 3600000000 AS h, sum(v) AS v, sum(c) AS c, sum(ab) AS ab, sum(av) AS av, sum(avv) AS avv, max(ts) AS latest
FROM ev GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE pwin AS
SELECT p, h, sum(v) OVER w AS v, sum(c) OVER w AS c, sum(ab) OVER w AS ab, sum(av) OVER w AS av, sum(avv) OVER w AS avv,
  lag(latest) OVER (PARTITION BY p ORDER BY h) AS latest_before
FROM ptile
WINDOW w AS (PARTITION BY p ORDER BY h RANGE BETWEEN 24 PRECEDING AND 1 PRECEDING);

CREATE OR REPLACE TEMP TABLE pf AS
WITH sums AS (
  SELECT x.seq, coalesce(x.latest, w.latest_before) >= x.ts - 259200000000 AS present,
    coalesce(w.v, 0) + coalesce(x.v, 0) AS views, coalesce(w.c, 0) + coalesce(x.c, 0) AS carts,
    coalesce(w.ab, 0) + coalesce(x.ab, 0) AS rev, coalesce(w.av, 0) + coalesce(x.av, 0) AS sa,
    coalesce(w.avv, 0) + coalesce(x.avv, 0) AS saa
  FROM (
    SELECT seq, ts, typ, p, ts // 3600000000 AS h,
      sum(v) OVER w AS v, sum(c) OVER w AS c, sum(ab) OVER w AS ab, sum(av) OVER w AS av, sum(avv) OVER w AS avv, max(ts) OVER w AS latest
    FROM ev
    WINDOW w AS (PARTITION BY p, ts // 3600000000 ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)) x
  JOIN pwin w USING (p, h)
  WHERE x.typ = 0)
SELECT seq,
  CASE WHEN present AND views > 0 THEN carts / views END AS prod_ctr_24h,
  CASE WHEN present THEN rev / 1000000 END::DOUBLE AS prod_rev_24h,
  -- fsml divides the exact micro-unit sum by 10^6, then by the count.
  CASE WHEN present AND views > 0 THEN sa::DOUBLE / 1000000 / views END AS prod_avg_price_24h,
  CASE WHEN present AND views > 0 THEN sqrt((views * saa - sa * sa)::DOUBLE / (views * views)) / 1000000 END AS prod_price_std_24h
FROM sums;

-- Session (2h TTL): a running restart flag numbers the lives, a product's first event in a life
-- counts it once, and duration and distinct products are read over the life before t. The
-- example's own life is the life of the latest event before t whenever the session is present (an
-- event at most 2h after the previous one does not restart it); an example that starts a life has
-- nothing before it in that life and reads as missing, as it must after a gap of more than 2h.
CREATE OR REPLACE TEMP TABLE sf AS
WITH flagged AS (
  SELECT seq, ts, typ, s, p, coalesce(ts - lag(ts) OVER (PARTITION BY s ORDER BY ts, seq) > 7200000000, true)::INTEGER AS restart FROM ev),
lives AS (
  SELECT *, sum(restart) OVER (PARTITION BY s ORDER BY ts, seq ROWS UNBOUNDED PRECEDING) AS life FROM flagged),
firsts AS (
  SELECT *, (row_number() OVER (PARTITION BY s, life, p ORDER BY ts, seq) = 1)::INTEGER AS first_p FROM lives)
SELECT seq, ((max(ts) OVER w - min(ts) OVER w) / 1000000)::DOUBLE AS sess_duration_s, (sum(first_p) OVER w)::DOUBLE AS sess_unique_products
FROM firsts
WINDOW w AS (PARTITION BY s, life ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
QUALIFY typ = 0;

-- User x product (7d TTL): windowed counts; the time since the last view in the current life (the
-- latest view before t counts if it is not older than the life start of the latest event before t,
-- the largest restart time before t); and the label, an add_to_cart in (t, t + 30m]: a semi-join
-- written as a forward frame over the same partition.
CREATE OR REPLACE TEMP TABLE upf AS
WITH flagged AS (
  SELECT *, CASE WHEN coalesce(ts - lag(ts) OVER (PARTITION BY up ORDER BY ts, seq), 604800000001) > 604800000000 THEN ts END AS restart_ts
  FROM ev),
framed AS (
  SELECT seq, ts, typ,
    max(ts) OVER e >= ts - 604800000000 AS present,
    max(restart_ts) OVER e AS life_start,
    max(CASE WHEN typ = 0 THEN ts END) OVER e AS last_view,
    sum(v) OVER (PARTITION BY up ORDER BY ts RANGE BETWEEN ts % 300000000 + 3600000000 PRECEDING AND 1 PRECEDING) AS views_1h,
    sum(v) OVER d AS views_24h, sum(c) OVER d AS carts_24h, sum(b) OVER d AS buys_24h,
    sum(c) OVER (PARTITION BY up ORDER BY ts RANGE BETWEEN 1 FOLLOWING AND 1800000000 FOLLOWING) > 0 AS label
  FROM flagged
  WINDOW e AS (PARTITION BY up ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
         d AS (PARTITION BY up ORDER BY ts RANGE BETWEEN ts % 3600000000 + 86400000000 PRECEDING AND 1 PRECEDING))
SELECT seq,
  CASE WHEN present THEN coalesce(views_1h, 0) END::DOUBLE AS up_views_1h,
  CASE WHEN present THEN coalesce(views_24h, 0) END::DOUBLE AS up_views_24h,
  CASE WHEN present AND last_view >= life_start THEN (ts - last_view) / 1000000 END::DOUBLE AS up_since_view_s,
  coalesce(present AND carts_24h > buys_24h, false)::DOUBLE AS up_in_cart,
  coalesce(label, false)::INTEGER AS added_to_cart_30m
FROM framed
WHERE typ = 0;

CREATE OR REPLACE TEMP TABLE settled AS SELECT max(ts) - {lateness_us} AS until FROM ev;

-- The narrow feature tables are joined on their own first (materialized, or the optimizer would
-- send the wide example rows through four joins instead of one).
CREATE OR REPLACE TEMP TABLE features AS SELECT * FROM uf JOIN pf USING (seq) JOIN sf USING (seq) JOIN upf USING (seq);

-- The dataset: the example's own fields, then its features; rows by time, then arrival. Examples
-- whose label horizon reaches the final watermark are immature: left out.
SELECT x.event_id, x.event_ts, x.user_id, x.session_id, x.event_type, x.product_id, x.price, x.currency,
  x."device.mobile", x."device.os", x."geo.country", x."geo.city",
  f.user_views_5m, f.user_add2cart_1h, f.user_cr_24h, f.prod_ctr_24h, f.prod_rev_24h, f.sess_duration_s,
  f.sess_unique_products, f.up_views_1h, f.up_views_24h, f.up_since_view_s, f.up_in_cart,
  f.prod_avg_price_24h, f.prod_price_std_24h, x.price AS price_now, x.price / f.prod_avg_price_24h AS price_vs_avg,
  -- The request's categories: the value's place in fsml.yaml's list, missing for any other value.
  CASE x."device.os" WHEN 'iOS' THEN 0 WHEN 'Android' THEN 1 WHEN 'Windows' THEN 2 WHEN 'macOS' THEN 3
    WHEN 'Linux' THEN 4 END::DOUBLE AS device_os,
  x."device.mobile"::DOUBLE AS mobile,
  CASE x."geo.country" WHEN 'DE' THEN 0 WHEN 'FR' THEN 1 WHEN 'GB' THEN 2 WHEN 'US' THEN 3 WHEN 'ES' THEN 4
    WHEN 'IT' THEN 5 WHEN 'NL' THEN 6 WHEN 'PL' THEN 7 END::DOUBLE AS country,
  f.added_to_cart_30m
FROM read_parquet('{events}') x
JOIN features f ON f.seq = x._seq
WHERE x.event_type = 'page_view' AND epoch_us(x.event_ts) + 1800000000 < (SELECT until FROM settled)
ORDER BY x.event_ts, x._seq
