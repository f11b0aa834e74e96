import FeatureCore

/// The reference project that `fsml init` writes: DESIGN.md's clickstream schema, entities and
/// features. The repository's own fsml.yaml is this text (a test keeps them equal).
public enum ReferenceProject {
    public static let yaml = """
        # fsml project definition: the one definition of every feature. The stream job, the
        # point-in-time builder and the server all compute from it. Window rules: docs/semantics.md.
        project: shop

        # The clickstream events, one JSON object per line or per Kafka message.
        events:
          time_field: event_ts
          id_field: event_id
          fields:
            event_id: {type: string}
            event_ts: {type: timestamp}
            user_id: {type: string}
            session_id: {type: string}
            event_type: {type: string, values: [page_view, add_to_cart, purchase]}
            product_id: {type: string}
            price: {type: float, min: 0}
            currency: {type: string, optional: true, max_length: 3}
            device.mobile: {type: bool, optional: true}
            device.os: {type: string, optional: true}
            geo.country: {type: string, optional: true}
            geo.city: {type: string, optional: true}

        # Events older than (latest event time seen - allowed_lateness) are late: logged, not folded.
        allowed_lateness: 10m
        # An event more than max_clock_jump ahead of the stream clock waits until clock_jump_quorum
        # events confirm the jump; if none do, it goes to the dead letters (docs/semantics.md §1).
        max_clock_jump: 1d
        clock_jump_quorum: 8

        # An entity not updated for longer than its ttl reads as missing, online and offline.
        entities:
          user: {key: user_id, ttl: 7d}
          product: {key: product_id, ttl: 3d}
          session: {key: [user_id, session_id], ttl: 2h}
          user_product: {key: [user_id, product_id], ttl: 7d}

        features:
          user_views_5m:
            entity: user
            aggregation: count
            filter: event_type == page_view
            window: 5m
            hop: 1m
            description: Product pages the user viewed in the last 5 minutes.
          user_add2cart_1h:
            entity: user
            aggregation: count
            filter: event_type == add_to_cart
            window: 1h
            hop: 5m
            description: Products the user added to the cart in the last hour.
          user_purchases_24h:
            entity: user
            aggregation: count
            filter: event_type == purchase
            window: 24h
            hop: 1h
          user_views_24h:
            entity: user
            aggregation: count
            filter: event_type == page_view
            window: 24h
            hop: 1h
          user_cr_24h:
            entity: user
            aggregation: ratio
            numerator: user_purchases_24h
            denominator: user_views_24h
            description: The user's conversion rate over 24 hours (purchases / views).
          prod_views_24h:
            entity: product
            aggregation: count
            filter: event_type == page_view
            window: 24h
            hop: 1h
          prod_add2cart_24h:
            entity: product
            aggregation: count
            filter: event_type == add_to_cart
            window: 24h
            hop: 1h
          prod_ctr_24h:
            entity: product
            aggregation: ratio
            numerator: prod_add2cart_24h
            denominator: prod_views_24h
            description: The product's add-to-cart rate over 24 hours (add_to_cart / views).
          prod_rev_24h:
            entity: product
            aggregation: sum
            field: price
            filter: event_type == purchase
            window: 24h
            hop: 1h
            description: The product's revenue over 24 hours (sum of purchase prices).
          sess_duration_s:
            entity: session
            aggregation: duration
            window: session
            description: Seconds from the session's first event to its latest.
          sess_unique_products:
            entity: session
            aggregation: distinct_count
            field: product_id
            window: session
            description: Distinct products seen in the session.

          # What a recommender needs most: how this user treats this product, and the price now.
          up_views_1h:
            entity: user_product
            aggregation: count
            filter: event_type == page_view
            window: 1h
            hop: 5m
            description: Times this user viewed this product in the last hour.
          up_views_24h:
            entity: user_product
            aggregation: count
            filter: event_type == page_view
            window: 24h
            hop: 1h
            description: Times this user viewed this product in the last 24 hours.
          up_since_view_s:
            entity: user_product
            aggregation: time_since_last
            filter: event_type == page_view
            window: lifetime
            description: Seconds since this user last viewed this product.
          up_carts_24h:
            entity: user_product
            aggregation: count
            filter: event_type == add_to_cart
            window: 24h
            hop: 1h
          up_purchases_24h:
            entity: user_product
            aggregation: count
            filter: event_type == purchase
            window: 24h
            hop: 1h
          up_in_cart:
            expression: coalesce(up_carts_24h, 0) > coalesce(up_purchases_24h, 0)
            description: 1 when this user added this product to the cart in the last 24 hours and did not buy it.
          prod_avg_price_24h:
            entity: product
            aggregation: avg
            field: price
            filter: event_type == page_view
            window: 24h
            hop: 1h
            description: The product's average viewed price over 24 hours.
          prod_price_std_24h:
            entity: product
            aggregation: stddev
            field: price
            sample: false
            filter: event_type == page_view
            window: 24h
            hop: 1h
            description: How much the product's viewed price varied over 24 hours.
          price_now:
            entity: product
            expression: price
            description: The price shown with this request (in a training set, on the example's page view).
          price_vs_avg:
            expression: price / prod_avg_price_24h
            description: The price shown now against the product's average over 24 hours.
          device_os:
            entity: session
            expression: category(device.os, "iOS", "Android", "Windows", "macOS", "Linux")
            description: The request's operating system, a category (models split it by sets of systems).
          mobile:
            entity: session
            expression: device.mobile
            description: 1 when the request comes from a mobile device.
          country:
            entity: session
            expression: category(geo.country, "DE", "FR", "GB", "US", "ES", "IT", "NL", "PL")
            description: The request's country, a category.

        # Feature views say which features are served and trained on; the others are helpers.
        feature_views:
          user_activity:
            entity: user
            features: [user_views_5m, user_add2cart_1h, user_cr_24h]
          product_stats:
            entity: product
            features: [prod_ctr_24h, prod_rev_24h]
          session_activity:
            entity: session
            features: [sess_duration_s, sess_unique_products]
          user_product_activity:
            entity: user_product
            features: [up_views_1h, up_views_24h, up_since_view_s, up_in_cart]
          price_context:
            entity: product
            features: [prod_avg_price_24h, prod_price_std_24h, price_now, price_vs_avg]
          request_context:
            entity: session
            features: [device_os, mobile, country]

        # Each page_view is an example; it is positive when the same user adds the same product to
        # the cart within 30 minutes after it.
        label:
          name: added_to_cart_30m
          example: event_type == page_view
          outcome: event_type == add_to_cart
          same: [user_id, product_id]
          within: 30m

        stores:
          online: redis://127.0.0.1:6379/0
          offline: data/offline

        # Data-quality expectations, checked by `fsml validate` on events, the offline store or a dataset.
        # (Also possible: freshness: 15m, how old the newest event may be; for live data.)
        expectations:
          max_invalid_rate: 0.01
          columns:
            event_id: {unique: true, max_null_rate: 0}
            user_id: {max_null_rate: 0}
            price: {min: 0, max: 100000}
            event_type: {values: [page_view, add_to_cart, purchase]}
            geo.country: {max_null_rate: 0.2}

        """
}
