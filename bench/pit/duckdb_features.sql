-- The reference features of fsml.yaml, as of each spine row's time, "as known" (docs/semantics.md):
-- only events that became known before t (_known_at < t) count; windows cover
-- [floor(t / hop) * hop - window, t); an entity whose latest known event is more than its TTL
-- before t is missing; an entity restarts after a TTL gap (arrival order); sums in micro-units.
-- Parameters: {events} (a parquet glob), {spine} (parquet with user_id, product_id, session_id, event_timestamp).
CREATE OR REPLACE TEMP TABLE ev AS
SELECT _seq, _known_at, event_ts, user_id, session_id, product_id, event_type, price
FROM read_parquet('{events}');

CREATE OR REPLACE TEMP TABLE spine AS
SELECT row_number() OVER () - 1 AS rid, user_id, product_id, session_id, event_timestamp AS t FROM read_parquet('{spine}');

-- Events known before t are those with _seq below the first sequence known at or after t.
CREATE OR REPLACE TEMP TABLE known AS SELECT _known_at, min(_seq) AS first_seq FROM ev GROUP BY _known_at;
CREATE OR REPLACE TEMP TABLE cut AS
SELECT s.*, coalesce(k.first_seq, 9223372036854775807) AS cutoff
FROM spine s ASOF LEFT JOIN known k ON k._known_at >= s.t;

-- Presence: the latest event time among events known before t, by an ASOF lookup of the running
-- maximum in arrival order.
CREATE OR REPLACE TEMP TABLE ulast AS
SELECT user_id, _seq, max(event_ts) OVER (PARTITION BY user_id ORDER BY _seq) AS last_ts FROM ev;
CREATE OR REPLACE TEMP TABLE plast AS
SELECT product_id, _seq, max(event_ts) OVER (PARTITION BY product_id ORDER BY _seq) AS last_ts FROM ev;
CREATE OR REPLACE TEMP TABLE presence AS
SELECT c.rid, u.last_ts AS user_last, p.last_ts AS product_last
FROM cut c
ASOF LEFT JOIN ulast u ON u.user_id = c.user_id AND u._seq < c.cutoff
ASOF LEFT JOIN plast p ON p.product_id = c.product_id AND p._seq < c.cutoff;

-- Users: windows of 5m (hop 1m), 1h (hop 5m), 24h (hop 1h), so events of the last 25h suffice; a
-- restart after a 7d gap cannot reach into them.
CREATE OR REPLACE TEMP TABLE uf AS
SELECT c.rid,
  count(*) FILTER (e.event_type = 'page_view' AND e.event_ts >= time_bucket(INTERVAL 1 minute, c.t) - INTERVAL 5 minute) AS views_5m,
  count(*) FILTER (e.event_type = 'add_to_cart' AND e.event_ts >= time_bucket(INTERVAL 5 minute, c.t) - INTERVAL 1 hour) AS add2cart_1h,
  count(*) FILTER (e.event_type = 'purchase' AND e.event_ts >= time_bucket(INTERVAL 1 hour, c.t) - INTERVAL 24 hour) AS purchases_24h,
  count(*) FILTER (e.event_type = 'page_view' AND e.event_ts >= time_bucket(INTERVAL 1 hour, c.t) - INTERVAL 24 hour) AS views_24h
FROM cut c JOIN ev e ON e.user_id = c.user_id AND e._seq < c.cutoff AND e.event_ts >= c.t - INTERVAL 25 hour
GROUP BY c.rid;

-- Products: 24h windows (hop 1h).
CREATE OR REPLACE TEMP TABLE pf AS
SELECT c.rid,
  count(*) FILTER (e.event_type = 'page_view' AND e.event_ts >= time_bucket(INTERVAL 1 hour, c.t) - INTERVAL 24 hour) AS views_24h,
  count(*) FILTER (e.event_type = 'add_to_cart' AND e.event_ts >= time_bucket(INTERVAL 1 hour, c.t) - INTERVAL 24 hour) AS add2cart_24h,
  sum(CAST(round(e.price * 1000000) AS BIGINT)) FILTER (e.event_type = 'purchase' AND e.event_ts >= time_bucket(INTERVAL 1 hour, c.t) - INTERVAL 24 hour) AS rev_units
FROM cut c JOIN ev e ON e.product_id = c.product_id AND e._seq < c.cutoff AND e.event_ts >= c.t - INTERVAL 25 hour
GROUP BY c.rid;

-- Sessions (user_id, session_id): 2h TTL; the session's life restarts when an event comes more than
-- 2h after every earlier one (arrival order); duration and distinct products over the current life.
CREATE OR REPLACE TEMP TABLE sev AS
WITH gaps AS (
  SELECT *, max(event_ts) OVER (PARTITION BY user_id, session_id ORDER BY _seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max
  FROM ev)
SELECT user_id, session_id, _seq, event_ts, product_id,
  sum(CASE WHEN event_ts - prev_max > INTERVAL 2 hour THEN 1 ELSE 0 END) OVER (PARTITION BY user_id, session_id ORDER BY _seq) AS life
FROM gaps;

CREATE OR REPLACE TEMP TABLE current_life AS
SELECT c.rid, c.cutoff, arg_max(s.life, s._seq) AS life
FROM cut c JOIN sev s ON s.user_id = c.user_id AND s.session_id = c.session_id AND s._seq < c.cutoff
GROUP BY c.rid, c.cutoff;

CREATE OR REPLACE TEMP TABLE sf AS
SELECT l.rid, max(s.event_ts) AS last_ts, min(s.event_ts) AS first_ts, count(DISTINCT s.product_id) AS products
FROM current_life l JOIN cut c ON c.rid = l.rid
JOIN sev s ON s.user_id = c.user_id AND s.session_id = c.session_id AND s._seq < l.cutoff AND s.life = l.life
GROUP BY l.rid;

SELECT c.rid,
  CASE WHEN x.user_last >= c.t - INTERVAL 7 day THEN coalesce(u.views_5m, 0) END AS user_views_5m,
  CASE WHEN x.user_last >= c.t - INTERVAL 7 day THEN coalesce(u.add2cart_1h, 0) END AS user_add2cart_1h,
  CASE WHEN x.user_last >= c.t - INTERVAL 7 day AND u.views_24h > 0 THEN u.purchases_24h::DOUBLE / u.views_24h END AS user_cr_24h,
  CASE WHEN x.product_last >= c.t - INTERVAL 3 day AND p.views_24h > 0 THEN p.add2cart_24h::DOUBLE / p.views_24h END AS prod_ctr_24h,
  CASE WHEN x.product_last >= c.t - INTERVAL 3 day THEN coalesce(p.rev_units, 0)::DOUBLE / 1000000 END AS prod_rev_24h,
  CASE WHEN f.last_ts >= c.t - INTERVAL 2 hour THEN epoch_us(f.last_ts - f.first_ts)::DOUBLE / 1000000 END AS sess_duration_s,
  CASE WHEN f.last_ts >= c.t - INTERVAL 2 hour THEN f.products END AS sess_unique_products
FROM cut c JOIN presence x ON x.rid = c.rid LEFT JOIN uf u ON u.rid = c.rid LEFT JOIN pf p ON p.rid = c.rid
LEFT JOIN sf f ON f.rid = c.rid
ORDER BY c.rid;
