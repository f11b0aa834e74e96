import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import GBDT
import OnlineStorage
import Testing
import Tracking

@testable import Serving

@Suite struct PredictionServiceTests {
    static let registry = EventFactory.referenceRegistry()

    /// A small model over the reference features, tracked and promoted, and a store with states.
    struct Fixture {
        let dir: String
        let tracking: TrackingStore
        let service: PredictionService
        let memory: MemoryOnlineStore
        let states: StateTable
        let model: AnyModel
        let clock: Micros

        init(objective: ObjectiveKind = .binary) throws {
            dir =
                FileManager.default.temporaryDirectory.appendingPathComponent("fsml-serving-\(UUID().uuidString)").path
            tracking = TrackingStore(root: dir + "/experiments")
            let names = PredictionServiceTests.registry.features.map(\.name)
            var g = SeededRandom(seed: 3)
            var values: [Float] = []
            var labels: [Float] = []
            for _ in 0..<2000 {
                let row = names.indices.map { _ in Float(g.uniform() * 10) }
                values += row
                switch objective {
                case .multiclass: labels.append(Float(min(2, Int(row[0] / 3.4))))
                case .regression: labels.append(row[0] + row[1])
                default: labels.append(row[0] + row[1] > 10 ? 1 : 0)
                }
            }
            var params = TrainingParams()
            params.numIterations = 10
            params.minDataInLeaf = 5
            params.objective = objective
            if objective == .multiclass { params.numClass = 3 }
            let trained = try Booster.train(
                LabeledData(
                    features: DenseMatrix(rows: 2000, columns: names.count, values: values, featureNames: names),
                    labels: labels), params: params)
            model = .gbdt(trained.model)
            let e = try tracking.experimentCreatingIfNeeded("ctr")
            let run = try RunWriter(store: tracking, experiment: e, name: "m")
            try model.save(to: run.artifactsDirectory + "/model.json")
            try run.setTags(["fsml.model.sha256": try SHA256.hex(ofFile: run.artifactsDirectory + "/model.json")])
            try run.end()
            try tracking.setAlias("production", run: run.snapshot)

            // States from a few events, through the engine, into the memory store.
            states = StateTable(engine: FeatureEngine(registry: PredictionServiceTests.registry), tracksChanges: true)
            var factory = EventFactory(registry: PredictionServiceTests.registry)
            for (i, m) in [0.0, 1, 2, 3, 30, 61, 62].enumerated() {
                states.fold(
                    factory.make(
                        EventFactory.at(m), type: i % 3 == 2 ? "add_to_cart" : "page_view", user: "u1", session: "s1",
                        product: i % 2 == 0 ? "p1" : "p2"))
            }
            memory = MemoryOnlineStore(entities: PredictionServiceTests.registry.entities)
            var records: [StateRecord] = []
            for (e, keys) in states.takeChanges().enumerated() {
                for k in keys {
                    let s = states.state(entity: e, key: k)!
                    records.append(
                        StateRecord(
                            entity: e, key: k, lastTime: s.lastTime,
                            blob: StateCodec.encode(s, engine: states.engine, entity: e)))
                }
            }
            try memory.write(records)
            try memory.writeClock(EventFactory.at(63))
            clock = EventFactory.at(63) + 1  // serving is just after the stream's clock
            let models = try ModelHandle(
                store: tracking, experiment: "ctr", alias: "production", registry: PredictionServiceTests.registry)
            service = PredictionService(
                models: models,
                reader: StoreReader(stores: [memory], probe: memory, cacheTTL: 0.5, metrics: MetricsRegistry()),
                clock: .stream, log: nil, metrics: MetricsRegistry())
        }

        /// What the model gives for the features the engine computes directly, each entity's state
        /// looked up by the keys the request names.
        func expected(
            user: String, product: String, session: String?, price: Double? = nil, fields: [String: FieldValue] = [:]
        ) -> Double {
            // Scored as the server scores (the flat predictor): only the features may differ.
            service.models.current.score(
                vector(user: user, product: product, session: session, price: price, fields: fields))
        }

        /// The features the engine computes directly for a request.
        func vector(
            user: String, product: String, session: String?, price: Double? = nil, fields: [String: FieldValue] = [:]
        ) -> [Float] {
            let r = PredictionServiceTests.registry
            func key(_ e: Int) -> String? {
                switch r.entities[e].name {
                case "user": return user
                case "product": return product
                case "session": return session.map { EntityKeyMaker.join([user, $0]) }
                default: return EntityKeyMaker.join([user, product])
                }
            }
            let priceField = r.schema.index(of: "price")!
            return r.features.indices.map { f -> Float in
                let v = states.engine.value(
                    feature: f, states: { e in key(e).flatMap { states.state(entity: e, key: $0) } },
                    fields: {
                        $0 == priceField
                            ? price.map(FieldValue.number) ?? .missing : fields[r.schema.fields[$0].name] ?? .missing
                    }, asOf: clock)
                return v.isNaN ? .nan : Float(v)
            }
        }
    }

    /// The score as fsml wrote it: Foundation's JSON reader does not always round to the nearest double.
    static func score(_ a: PredictionService.Answer) -> Double {
        try! JSONParser.parse(Array(a.body.utf8))["score"]!.double!
    }

    static func json(_ a: PredictionService.Answer) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(a.body.utf8)) as! [String: Any]
    }

    @Test func predictScoresTheEnginesFeaturesAsOfTheStreamClock() throws {
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        for (user, product, session) in [("u1", "p1", "s1"), ("u1", "p2", nil), ("u9", "p1", "s1"), ("u1", "p7", "s1")]
        {
            let body =
                "{\"user_id\":\"\(user)\",\"product_id\":\"\(product)\""
                + (session.map { ",\"session_id\":\"\($0)\"" } ?? "") + "}"
            let answer = f.service.predict(Array(body.utf8))
            #expect(answer.status == 200)
            let o = Self.json(answer)
            #expect(Self.score(answer) == f.expected(user: user, product: product, session: session), "\(body)")
        }
        let knownAnswer = f.service.predict(
            Array(
                #"{"user_id":"u1","product_id":"p1","session_id":"s1","price":12.5,"device.os":"iOS","device.mobile":true,"geo.country":"DE"}"#
                    .utf8))
        let known = Self.json(knownAnswer)
        // A known user, product, session and pair, and the request's fields: no feature is missing.
        #expect((known["missing"] as! [String]).isEmpty, "\(known)")
        let fields: [String: FieldValue] = [
            "device.os": .string("iOS"), "device.mobile": .bool(true), "geo.country": .string("DE"),
        ]
        #expect(
            Self.score(knownAnswer) == f.expected(user: "u1", product: "p1", session: "s1", price: 12.5, fields: fields)
        )
        // The newest state (u1, s1 at minute 62) is one minute (and 1 µs) before the serving time.
        #expect(known["features_freshness_ms"] as! Double == 60_000.001)
        let unknown = Self.json(f.service.predict(Array("{\"user_id\":\"u9\",\"product_id\":\"p9\"}".utf8)))
        // Everything is missing but what coalesce fills in.
        #expect(
            Set(unknown["missing"] as! [String]) == Set(Self.registry.features.map(\.name)).subtracting(["up_in_cart"]))
        #expect(unknown["missing_entities"] as? [String] == ["user", "product", "session", "user_product"])
    }

    /// A stored state that does not decode is served as missing (the answer still comes) and
    /// counted, never a crash nor a silently different vector.
    @Test func anUndecodableStateIsMissingAndCounted() throws {
        let f = try Fixture()
        try f.memory.write([StateRecord(entity: 0, key: "u9", lastTime: EventFactory.at(62), blob: [1, 0xde, 0xad])])
        let answer = Self.json(f.service.predict(Array(#"{"user_id":"u9","product_id":"p1"}"#.utf8)))
        let missing = answer["missing"] as? [String] ?? []
        #expect(missing.contains("user_views_5m") && !missing.contains("prod_ctr_24h"))
        #expect(f.service.metrics.value("fsml_serve_undecodable_states_total") == 1)
    }

    @Test func rankSortsProductsByThePredictScore() throws {
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let answer = f.service.rank(
            Array("{\"user_id\":\"u1\",\"session_id\":\"s1\",\"product_ids\":[\"p2\",\"p1\",\"p404\"]}".utf8))
        // Scores as fsml wrote them (Foundation's reader does not always round to the nearest double).
        let parsed = try JSONParser.parse(Array(answer.body.utf8))
        let ranked = (parsed["ranked"]?.array ?? []).map { ($0["product_id"]!.string!, $0["score"]!.double!) }
        let expected = ["p2", "p1", "p404"].map { ($0, f.expected(user: "u1", product: $0, session: "s1")) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        #expect(ranked.map(\.0) == expected.map(\.0) && ranked.map(\.1) == expected.map(\.1))
    }

    /// A model's output walked tree by tree and softmaxed here: every class's margin is its initial
    /// score plus the leaves of its trees (tree t is class t mod K's).
    static func probabilities(_ model: AnyModel, _ row: [Float]) -> [Double] {
        guard case .gbdt(let m) = model else { return [] }
        var margins = [Double](repeating: m.initScore, count: m.numClass)
        row.withUnsafeBufferPointer { r in
            for (t, tree) in m.trees.enumerated() { margins[t % m.numClass] += tree.predict(r.baseAddress!) }
        }
        let top = margins.max()!
        let exps = margins.map { exp($0 - top) }
        return exps.map { $0 / exps.reduce(0, +) }
    }

    /// A multiclass model is served: the answer carries every class's probability and the most
    /// likely class; /rank and explanations, which need one score, are refused with a reason.
    @Test func aMulticlassModelAnswersEveryClasssProbability() throws {
        let f = try Fixture(objective: .multiclass)
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        #expect(f.service.models.current.classes == 3)
        for (user, product, session) in [("u1", "p1", "s1"), ("u1", "p2", nil), ("u9", "p9", nil)] {
            let body =
                "{\"user_id\":\"\(user)\",\"product_id\":\"\(product)\""
                + (session.map { ",\"session_id\":\"\($0)\"" } ?? "") + "}"
            let answer = f.service.predict(Array(body.utf8))
            #expect(answer.status == 200, "\(answer.body)")
            let parsed = try JSONParser.parse(Array(answer.body.utf8))
            let got = (parsed["probabilities"]?.array ?? []).compactMap(\.double)
            let want = Self.probabilities(f.model, f.vector(user: user, product: product, session: session))
            #expect(got.count == 3 && zip(got, want).allSatisfy { abs($0 - $1) < 1e-12 }, "\(got) \(want)")
            #expect(parsed["score"]?.double == got.max() && parsed["class"]?.int == got.firstIndex(of: got.max()!))
        }
        let rank = f.service.rank(Array(#"{"user_id":"u1","product_ids":["p1","p2"]}"#.utf8))
        #expect(rank.status == 400 && rank.body.contains("multiclass (3 classes)"), "\(rank.body)")
        let explained = f.service.predict(Array(#"{"user_id":"u1","product_id":"p1"}"#.utf8), explain: true)
        #expect(explained.status == 400 && explained.body.contains("\"field\":\"explain\""), "\(explained.body)")
    }

    /// A regression model is served: its score is the predicted value.
    @Test func aRegressionModelAnswersItsValue() throws {
        let f = try Fixture(objective: .regression)
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        guard case .gbdt(let m) = f.model else { return }
        let row = f.vector(user: "u1", product: "p1", session: "s1")
        let walked = row.withUnsafeBufferPointer { r in
            m.trees.reduce(m.initScore) { $0 + $1.predict(r.baseAddress!) }
        }
        let answer = f.service.predict(Array(#"{"user_id":"u1","product_id":"p1","session_id":"s1"}"#.utf8))
        #expect(answer.status == 200 && abs(Self.score(answer) - walked) < 1e-9, "\(answer.body) \(walked)")
        #expect(!answer.body.contains("probabilities"))
    }

    @Test func featuresEndpointAndATamperedModelIsRefused() throws {
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let o = Self.json(f.service.features(entity: "user", id: "u1"))
        let values = o["features"] as! [String: Any]
        let f0 = Self.registry.features.firstIndex { $0.name == "user_views_5m" }!
        #expect(values["user_views_5m"] as? Double == f.states.value(feature: f0, key: "u1", asOf: f.clock))
        #expect(f.service.features(entity: "planet", id: "x").status == 404)

        let run = try f.tracking.run(alias: "production", experiment: try f.tracking.experiment("ctr"))
        try "{}".write(toFile: run.artifactsDirectory + "/model.json", atomically: true, encoding: .utf8)
        #expect {
            try ModelHandle(store: f.tracking, experiment: "ctr", alias: "production", registry: Self.registry)
        } throws: {
            "\($0)".contains("checksum")
        }
    }

    @Test func theMemoryStoreKeepsTheLatestStateAndTheCacheExpires() throws {
        let memory = MemoryOnlineStore(entities: Self.registry.entities)
        try memory.write([StateRecord(entity: 0, key: "u", lastTime: 10, blob: [1])])
        try memory.write([StateRecord(entity: 0, key: "u", lastTime: 5, blob: [2])])
        #expect(try memory.read([(0, "u")]).map { $0.flatMap(StoredValue.blob) } == [[1]])
        let cache = EntityCache(ttlNanos: 5_000_000_000)  // capped at 1 s
        cache.put(entity: 0, key: "u", value: nil, now: 0)
        #expect(cache.get(entity: 0, key: "u", now: 999_999_999) != nil)  // a cached absence
        #expect(cache.get(entity: 0, key: "u", now: 1_000_000_001) == nil)
    }

    @Test func theServedLogSamplesAndRolls() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-served-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let log = try ServedLog(directory: dir, sampleRate: 1, maxBytes: 2_000, keep: 2)
        for i in 0..<110 {
            log.record(time: 0, version: "v", ids: [("user_id", "u\(i)")], features: ["a"], values: [.nan], score: 0.5)
        }
        log.close()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        try #require(files.count == 2)  // older files were dropped
        let line = try String(contentsOfFile: "\(dir)/\(files[1])", encoding: .utf8).split(separator: "\n").last!
        let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        #expect(o["user_id"] as? String == "u109" && (o["features"] as! [String: Any])["a"] is NSNull)
    }
}
