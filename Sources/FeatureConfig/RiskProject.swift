/// The second reference project, `fsml init --template risk`: card authorizations scored for
/// fraud, with cards, merchants and their pair as entities, velocity and spend features, a
/// request-time amount ratio, and a label that matures days later (a chargeback).
public enum RiskProject {
    public static let yaml = """
        # fsml project definition: card authorizations scored for fraud (fsml init --template risk).
        # Window rules: docs/semantics.md.
        project: risk

        # Authorizations, and chargebacks that dispute one of them days later (same auth_id).
        events:
          time_field: event_ts
          id_field: event_id
          fields:
            event_id: {type: string}
            event_ts: {type: timestamp}
            event_type: {type: string, values: [authorization, chargeback]}
            auth_id: {type: string}
            card_id: {type: string}
            merchant_id: {type: string}
            device_id: {type: string, optional: true}
            country: {type: string, optional: true, max_length: 2}
            amount: {type: float, min: 0}

        allowed_lateness: 10m

        entities:
          card: {key: card_id, ttl: 30d}
          merchant: {key: merchant_id, ttl: 30d}
          card_merchant: {key: [card_id, merchant_id], ttl: 30d}

        features:
          card_auths_1m: {entity: card, aggregation: count, filter: event_type == authorization, window: 1m, hop: 10s}
          card_auths_1h: {entity: card, aggregation: count, filter: event_type == authorization, window: 1h, hop: 5m}
          card_auths_24h: {entity: card, aggregation: count, filter: event_type == authorization, window: 24h, hop: 1h}
          card_since_last_s:
            entity: card
            aggregation: time_since_last
            filter: event_type == authorization
            window: lifetime
            description: Seconds since the card's previous authorization.
          card_amount_avg_24h: {entity: card, aggregation: avg, field: amount, filter: event_type == authorization, window: 24h, hop: 1h}
          card_amount_max_24h: {entity: card, aggregation: max, field: amount, filter: event_type == authorization, window: 24h, hop: 1h}
          card_amount_std_24h: {entity: card, aggregation: stddev, field: amount, sample: false, filter: event_type == authorization, window: 24h, hop: 1h}
          card_merchants_24h: {entity: card, aggregation: distinct_count, field: merchant_id, window: 24h, hop: 1h}
          card_countries_24h: {entity: card, aggregation: distinct_count, field: country, window: 24h, hop: 1h}
          card_devices_24h: {entity: card, aggregation: distinct_count, field: device_id, window: 24h, hop: 1h}
          amount_now:
            entity: card
            expression: amount
            description: The amount of the authorization being scored.
          amount_vs_card_avg:
            expression: amount / card_amount_avg_24h
            description: The amount now against the card's average over 24 hours.
          merchant_auths_30d: {entity: merchant, aggregation: count, filter: event_type == authorization, window: 30d, hop: 1d}
          merchant_chargebacks_30d: {entity: merchant, aggregation: count, filter: event_type == chargeback, window: 30d, hop: 1d}
          merchant_cb_rate_30d:
            entity: merchant
            aggregation: ratio
            numerator: merchant_chargebacks_30d
            denominator: merchant_auths_30d
            description: The merchant's chargebacks per authorization over 30 days (as known so far).
          card_merchant_auths_30d:
            entity: card_merchant
            aggregation: count
            filter: event_type == authorization
            window: 30d
            hop: 1d
            description: Earlier authorizations of this card at this merchant.

        feature_views:
          card_velocity:
            entity: card
            features: [card_auths_1m, card_auths_1h, card_auths_24h, card_since_last_s]
          card_spend:
            entity: card
            features: [
              card_amount_avg_24h, card_amount_max_24h, card_amount_std_24h, card_merchants_24h, card_countries_24h,
              card_devices_24h, amount_now, amount_vs_card_avg]
          merchant_risk:
            entity: merchant
            features: [merchant_cb_rate_30d, merchant_auths_30d]
          card_merchant_history:
            entity: card_merchant
            features: [card_merchant_auths_30d]

        # Each authorization is an example; it is positive when a chargeback disputes it within 7 days.
        label:
          name: chargeback_7d
          example: event_type == authorization
          outcome: event_type == chargeback
          same: [auth_id]
          within: 7d

        stores:
          online: redis://127.0.0.1:6379/0
          offline: data/offline

        """
}
