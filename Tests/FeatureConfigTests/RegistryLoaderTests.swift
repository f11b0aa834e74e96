import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import Testing

@Suite struct RegistryLoaderTests {
    let reference = ReferenceProject.yaml

    func load(_ yaml: String) throws(ConfigError) -> FeatureRegistry {
        try RegistryLoader.parse(yaml, file: "fsml.yaml")
    }

    /// The reference text with one piece replaced, and the 1-based line where the replacement is.
    func variant(_ old: String, _ new: String) -> (yaml: String, line: Int) {
        let range = reference.range(of: old)!
        let line = reference[..<range.lowerBound].filter { $0 == "\n" }.count + 1
        return (reference.replacingCharacters(in: range, with: new), line)
    }

    func expectError(_ old: String, _ new: String, key: String, message: String, lineOffset: Int = 0) {
        let v = variant(old, new)
        #expect(throws: ConfigError(file: "fsml.yaml", line: v.line + lineOffset, key: key, message: message)) {
            try load(v.yaml)
        }
    }

    @Test func theReferenceProjectLoadsWithDesignMDsEntitiesAndFeatures() throws {
        let r = try load(reference)
        #expect(r.project == "shop")
        #expect(r.entities.map(\.name) == ["user", "product", "session", "user_product"])
        #expect(
            r.entities.map(\.ttl) == [
                7 * Timestamp.microsPerDay, 3 * Timestamp.microsPerDay, 2 * Timestamp.microsPerHour,
                7 * Timestamp.microsPerDay,
            ])
        #expect(
            r.servedFeatures.map { r.features[$0].name } == [
                "user_views_5m", "user_add2cart_1h", "user_cr_24h", "prod_ctr_24h", "prod_rev_24h", "sess_duration_s",
                "sess_unique_products", "up_views_1h", "up_views_24h", "up_since_view_s", "up_in_cart",
                "prod_avg_price_24h", "prod_price_std_24h", "price_now", "price_vs_avg", "device_os", "mobile",
                "country",
            ])
        // The first release's seven features are its first three views: the baseline `make all` trains.
        #expect(
            r.views.prefix(3).flatMap(\.features).map { r.features[$0].name } == [
                "user_views_5m", "user_add2cart_1h", "user_cr_24h", "prod_ctr_24h", "prod_rev_24h", "sess_duration_s",
                "sess_unique_products",
            ])
        #expect(r.isRequestTime(r.featureIndex("price_vs_avg")!) && !r.isRequestTime(r.featureIndex("up_in_cart")!))
        #expect(r.allowedLateness == 10 * Timestamp.microsPerMinute)
        #expect(r.schema.timeFieldName == "event_ts")
        #expect(r.entities[2].keyFields.map { r.schema.fields[$0].name } == ["user_id", "session_id"])
        let cr = r.featureIndex("user_cr_24h")!
        #expect(
            r.features[cr].derived?.ratio
                == DerivedSpec.Ratio(
                    numerator: r.featureIndex("user_purchases_24h")!, denominator: r.featureIndex("user_views_24h")!))
        #expect(r.features[cr].derived?.expression.description == "user_purchases_24h / user_views_24h")
        #expect(
            r.features[r.featureIndex("user_views_5m")!].aggregate?.window
                == .sliding(window: 5 * Timestamp.microsPerMinute, hop: Timestamp.microsPerMinute))
        #expect(r.label?.within == 30 * Timestamp.microsPerMinute)
        #expect(r.stores.online == "redis://127.0.0.1:6379/0")
    }

    @Test func definitionHashesChangeWithTheDefinitionOnly() throws {
        let r = try load(reference)
        let described = try load(
            variant("Product pages the user viewed in the last 5 minutes.", "Something else.").yaml)
        let rewindowed = try load(variant("    window: 5m\n    hop: 1m", "    window: 10m\n    hop: 1m").yaml)
        let i = r.featureIndex("user_views_5m")!
        #expect(r.definitionHash(of: i) == described.definitionHash(of: i))
        #expect(r.definitionHash(of: i) != rewindowed.definitionHash(of: i))
        // A ratio's hash covers its operands.
        let cr = r.featureIndex("user_cr_24h")!
        let retuned = try load(
            variant(
                "filter: event_type == purchase\n    window: 24h", "filter: event_type == add_to_cart\n    window: 24h"
            ).yaml)
        #expect(r.definitionHash(of: cr) != retuned.definitionHash(of: cr))
    }

    @Test func aBadDurationNamesFileLineAndKey() {
        expectError(
            "    window: 5m\n    hop: 1m", "    window: 5x\n    hop: 1m", key: "features.user_views_5m.window",
            message: "'5x' is not a duration (use 5m, 1h, 24h, 7d)")
        expectError(
            "session: {key: [user_id, session_id], ttl: 2h}", "session: {key: [user_id, session_id], ttl: 2 hours}",
            key: "entities.session.ttl", message: "'2 hours' is not a duration (use 5m, 1h, 24h, 7d)")
    }

    @Test func unknownKeysAreErrors() {
        expectError(
            "user: {key: user_id, ttl: 7d}", "user: {key: user_id, tll: 7d}", key: "entities.user.tll",
            message: "unknown key (expected one of: key, ttl, description)")
        expectError(
            "allowed_lateness: 10m", "allowed_latenes: 10m", key: "allowed_latenes",
            message:
                "unknown key (expected one of: project, events, allowed_lateness, max_clock_jump, clock_jump_quorum, entities, features, feature_views, label, stores, expectations)"
        )
    }

    @Test func referencesAreChecked() {
        expectError(
            "numerator: user_purchases_24h", "numerator: user_buys_24h", key: "features.user_cr_24h.numerator",
            message: "'user_buys_24h' is not a declared feature")
        expectError(
            "denominator: user_views_24h", "denominator: prod_views_24h", key: "features.user_cr_24h.denominator",
            message: "'prod_views_24h' belongs to entity product, not user")
        expectError(
            "    window: 1h\n    hop: 5m", "    window: 1h\n    hop: 7m", key: "features.user_add2cart_1h.hop",
            message: "the hop 7m does not divide the window 1h", lineOffset: 1)
        expectError(
            "user: {key: user_id, ttl: 7d}", "user: {ttl: 7d}", key: "entities.user",
            message: "the entity has no key (key: a field, or a list of fields)")
        expectError(
            "product: {key: product_id, ttl: 3d}", "product: {key: sku, ttl: 3d}", key: "entities.product.key",
            message: "'sku' is not a declared event field")
        expectError(
            "  user_views_5m:\n    entity: user", "  user_views_5m:\n    entity: customer",
            key: "features.user_views_5m.entity",
            message: "'customer' is not a declared entity (one of user, product, session, user_product)", lineOffset: 1)
        expectError(
            "features: [prod_ctr_24h, prod_rev_24h]", "features: [prod_ctr_24h, prod_rev_7d]",
            key: "feature_views.product_stats.features", message: "'prod_rev_7d' is not a declared feature")
    }

    @Test func filtersAreCheckedAgainstTheSchema() {
        expectError(
            "    filter: event_type == page_view\n    window: 5m",
            "    filter: event_type == page_veiw\n    window: 5m",
            key: "features.user_views_5m.filter",
            message: "'page_veiw' is not a value of event_type (one of page_view, add_to_cart, purchase)")
        expectError(
            "    filter: event_type == page_view\n    window: 5m", "    filter: kind == page_view\n    window: 5m",
            key: "features.user_views_5m.filter",
            message:
                "unknown field 'kind' (fields: event_id, event_ts, user_id, session_id, event_type, product_id, price, currency, device.mobile, device.os, geo.country, geo.city)"
        )
    }

    @Test func aggregationRulesAreEnforced() {
        expectError(
            "    aggregation: sum\n    field: price", "    aggregation: sum\n    field: currency",
            key: "features.prod_rev_24h.field", message: "sum needs a numeric field, but 'currency' is a string",
            lineOffset: 1)
        expectError(
            "    aggregation: count\n    filter: event_type == page_view\n    window: 5m",
            "    aggregation: counts\n    filter: event_type == page_view\n    window: 5m",
            key: "features.user_views_5m.aggregation",
            message:
                "'counts' is not an aggregation (\(AggregatorCatalog.all.map { $0.name }.joined(separator: ", ")), ratio; or an expression: instead of an aggregation)"
        )
    }

    /// The operations' own arguments and the window kinds, each refused with its file:line:key.
    @Test func operationArgumentsAndWindowKindsAreChecked() {
        let at = "    aggregation: duration\n    window: session"
        let key = "features.sess_duration_s"
        let cases: [(String, String, String, Int)] = [
            (
                "    aggregation: count\n    window: decayed", ".window",
                "a decayed window needs a half_life (e.g. half_life: 1h)", 1
            ),
            (
                "    aggregation: avg\n    field: price\n    window: decayed\n    half_life: 1h", ".window",
                "a decayed window weights count and sum only, not avg", 2
            ),
            (
                "    aggregation: count\n    window: 1h\n    half_life: 1h", ".half_life",
                "only a decayed window (window: decayed) has a half_life", 2
            ),
            ("    aggregation: count\n    window: lifetime\n    hop: 1h", ".hop", "a lifetime window has no hop", 2),
            (
                "    aggregation: last_k\n    field: price\n    k: 0\n    window: session", ".k",
                "'0' is not a whole number from 1 to 100", 2
            ),
            ("    aggregation: last_k\n    field: price\n    window: session", "", "missing key 'k'", -1),
            (
                "    aggregation: approx_percentile\n    field: price\n    percentile: 95\n    window: session",
                ".percentile", "'95' is not a number from 0.0 to 1.0", 2
            ),
            (
                "    aggregation: histogram\n    field: event_type\n    values: [purchase, purchase]\n    window: session",
                ".values", "a value is listed twice", 2
            ),
            (
                "    aggregation: histogram\n    field: event_type\n    values: purchase\n    window: session\n    k: 3",
                ".k", "histogram takes no k", 4
            ),
            (
                "    aggregation: variance\n    field: price\n    sample: maybe\n    window: session", ".sample",
                "'maybe' is not true or false", 2
            ),
            (
                "    aggregation: approx_unique_count\n    field: product_id\n    precision: 20\n    window: session",
                ".precision", "'20' is not a whole number from 4 to 16", 2
            ),
        ]
        for (new, suffix, message, offset) in cases {
            expectError(at, new, key: key + suffix, message: message, lineOffset: offset)
        }
    }

    /// A list-valued definition is one feature per element, named by suffix; names must not collide.
    @Test func listValuedFeaturesExpandIntoOneFeatureEach() throws {
        let v = variant(
            "  sess_unique_products:",
            """
              recent_prices:
                entity: user
                aggregation: last_k
                field: price
                k: 3
                window: 1h
              devices:
                entity: user
                aggregation: histogram
                field: device.os
                values: [Android, iOS, iPad OS]
                window: lifetime
              sess_unique_products:
            """)
        let r = try load(v.yaml)
        let names = r.features.map(\.name)
        for n in [
            "recent_prices_1", "recent_prices_2", "recent_prices_3", "devices_Android", "devices_iOS",
            "devices_iPad_OS", "devices_other",
        ] {
            #expect(names.contains(n), "\(n)")
        }
        // Elements share one slot of state.
        let engine = FeatureEngine(registry: r)
        let user = r.entities.firstIndex { $0.name == "user" }!
        let slots = engine.entities[user].slots.filter { $0.operation.name == "last_k" }
        #expect(slots.count == 1)
        let clash = variant(
            "  sess_unique_products:",
            "  recent_prices_2: {entity: user, aggregation: count, window: 1h}\n  recent_prices: {entity: user, aggregation: last_k, field: price, k: 2, window: 1h}\n  sess_unique_products:"
        )
        #expect(
            throws: ConfigError(
                file: "fsml.yaml", line: clash.line + 1, key: "features.recent_prices",
                message:
                    "the feature name 'recent_prices_2' is defined twice (a list-valued feature names one per element)")
        ) {
            try load(clash.yaml)
        }
    }

    @Test func yamlSyntaxErrorsCarryTheirLine() {
        #expect(throws: ConfigError.self) { try load("project: shop\nevents: [unclosed\n") }
        do {
            _ = try load("project: shop\nentities:\n  user: {key: user_id\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("fsml.yaml:"))
        }
    }

    @Test func theMessageReadsAsTheIssueShowsIt() {
        let v = variant("    window: 5m\n    hop: 1m", "    window: 24x\n    hop: 1m")
        do {
            _ = try load(v.yaml)
        } catch {
            #expect(
                error.description
                    == "fsml.yaml:\(v.line): features.user_views_5m.window: '24x' is not a duration (use 5m, 1h, 24h, 7d)"
            )
        }
    }

    @Test func defaultHopsAreNiceDivisors() {
        #expect(RegistryLoader.defaultHop(for: 5 * Timestamp.microsPerMinute) == Timestamp.microsPerMinute)
        #expect(RegistryLoader.defaultHop(for: Timestamp.microsPerHour) == 5 * Timestamp.microsPerMinute)
        #expect(RegistryLoader.defaultHop(for: Timestamp.microsPerDay) == Timestamp.microsPerHour)
        #expect(RegistryLoader.defaultHop(for: 7 * Timestamp.microsPerDay) == Timestamp.microsPerDay)
    }

    @Test func onlineStoreURLsParseAndNeverShowThePassword() throws {
        #expect(
            try OnlineStoreURL.parse("redis://127.0.0.1:6380/2")
                == .redis(host: "127.0.0.1", port: 6380, db: 2, password: nil))
        let secret = try OnlineStoreURL.parse("redis://:s3cr%40t@cache:6379/0")
        #expect(secret == .redis(host: "cache", port: 6379, db: 0, password: "s3cr@t"))
        #expect(!secret.description.contains("s3cr"))
        #expect(try OnlineStoreURL.parse("sqlite:data/online.db") == .sqlite(path: "data/online.db"))
        #expect(throws: OnlineStoreURL.ParseError.self) { try OnlineStoreURL.parse("memcached://x") }
        #expect(throws: OnlineStoreURL.ParseError.self) { try OnlineStoreURL.parse("redis://host:99999/0") }
        do {
            _ = try OnlineStoreURL.parse("http://:hunter2@host")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }

    /// A key given twice names its second line; a message never prints raw control bytes nor a
    /// whole pasted file.
    @Test func duplicateKeysAndUnprintableValuesAreNamedSafely() throws {
        let first = variant("    window: 5m\n    hop: 1m\n", "").line
        expectError(
            "    window: 5m\n    hop: 1m\n", "    window: 5m\n    hop: 1m\n    window: 1h\n", key: "",
            message: "the key 'window' appears twice in one mapping (first at line \(first))", lineOffset: 2)
        let pasted = String(repeating: "all of it ", count: 5_000)
        let v = variant("    window: 5m\n    hop: 1m\n", "    window: \"\(pasted)\\u0007\\u001b[31m\"\n    hop: 1m\n")
        do {
            _ = try load(v.yaml)
            Issue.record("a bad window loaded")
        } catch {
            let text = error.description
            #expect(text.hasPrefix("fsml.yaml:\(v.line): features.user_views_5m.window: '"))
            #expect(text.count < 700 && text.hasSuffix("…"))
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
        }
        let control = variant("project: shop", "project: \"sh\\u0000op\"")
        #expect {
            _ = try load(control.yaml)
        } throws: {
            "\($0)".contains("sh\\u{0}op") && !"\($0)".unicodeScalars.contains { $0.value < 0x20 }
        }
    }

    /// Thousands of features load in time linear in their number (a view listing them all once
    /// made it quadratic); the values are the same as when each is defined alone.
    @Test func manyFeaturesAndViewsLoad() throws {
        let head = reference[..<reference.range(of: "features:\n")!.lowerBound]
        let tail = reference[reference.range(of: "# Each page_view is an example")!.lowerBound...]
        var text = String(head) + "features:\n"
        for k in 0..<6_000 {
            text +=
                "  f\(k): {entity: user, aggregation: count, window: \(["5m", "1h", "24h"][k % 3]), filter: price > \(k % 40)}\n"
        }
        text +=
            "\nfeature_views:\n  all:\n    entity: user\n    features: [\((0..<6_000).map { "f\($0)" }.joined(separator: ", "))]\n\n"
        let r = try load(text + tail)
        #expect(r.features.count == 6_000 && r.servedFeatures.count == 6_000)
        // Slots are shared by equal aggregates: 3 windows × 40 filters.
        #expect(FeatureEngine(registry: r).entities[0].slots.count == 120)
    }
}
