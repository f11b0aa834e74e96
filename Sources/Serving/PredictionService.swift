import FeatureCore
import FsmlCore
import GBDT
import NIOCore
import OnlineStorage

/// What "now" is for the server. `wall`: the machine's clock (live traffic). `stream`: the stream
/// job's event-time clock, read from the store (serving replayed history, as `make all` does).
public enum ServingClock: String, Sendable, CaseIterable {
    case wall, stream
}

/// The server's work, apart from HTTP: requests in, JSON out.
public final class PredictionService: @unchecked Sendable {
    public let models: ModelHandle
    public let reader: StoreReader
    public let clock: ServingClock
    public let log: ServedLog?
    public let metrics: MetricsRegistry
    /// Why the server is not ready beside the store (a stopped in-process stream job), or nil.
    public let readiness: (@Sendable () -> String?)?
    private let undecodableLog = RateLimitedLog(seconds: 10)
    private let predictSeconds: MetricsRegistry.Handle

    public init(
        models: ModelHandle, reader: StoreReader, clock: ServingClock, log: ServedLog?, metrics: MetricsRegistry,
        readiness: (@Sendable () -> String?)? = nil
    ) {
        self.readiness = readiness
        metrics.add(
            "fsml_serve_undecodable_states_total", 0,
            help: "Stored entity states that did not decode (corrupt, or written under other definitions).")
        predictSeconds = metrics.histogram(
            "fsml_serve_predict_seconds", help: "Feature evaluation and scoring, after the store read.")
        self.models = models
        self.reader = reader
        self.clock = clock
        self.log = log
        self.metrics = metrics
    }

    /// The serving time: the wall clock, or 1 µs after the stream's clock as the background watch
    /// last read it. Just after the latest event: every event the stream folded is before "now",
    /// as it is for a live server and for a training example at that instant.
    public func now() -> Micros {
        guard clock == .stream, let c = reader.latestClock else { return wallClockMicros() }
        return c + 1
    }

    /// A stored state that does not decode is served as missing, counted and logged (at most
    /// every 10 s); the stream job's next write of it replaces it.
    func undecodable(_ entity: Int, _ why: String) {
        metrics.add("fsml_serve_undecodable_states_total")
        let name = models.current.lookup.registry.entities[entity].name
        undecodableLog.line("fsml serve: a stored \(name) state does not decode (\(why)); served as missing")
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: String
    }

    /// A request read and checked, with the entity keys it reads from the store.
    protocol StoreRequest: Sendable {
        var keys: [StoreReader.Key] { get }
    }

    /// A /predict request read and checked, with the entity keys it names.
    struct PredictRequest: StoreRequest {
        let model: LoadedModel
        let fields: PredictFields
        let asOf: Micros
        let keys: [StoreReader.Key]
    }

    /// A request ready for its store read, or the answer that refuses it.
    enum Prepared<Request> {
        case request(Request)
        case refused(Answer)
    }

    /// The common body is read straight from its bytes; any other (and every refusal) by the
    /// general reader, which the scanner leaves it to.
    func prepare(_ body: [UInt8], explain: Bool = false) -> Prepared<PredictRequest> {
        let model = models.current
        var fields: PredictFields
        if let scanned = PredictBodyScanner.scan(body, plan: model.plan) {
            fields = scanned
        } else {
            do {
                fields = PredictFields(
                    try ServeRequests.predict(body, contract: model.contract), contract: model.contract)
            } catch {
                return .refused(Answer(status: error.status, body: error.json))
            }
        }
        if explain { fields.explain = true }
        if fields.explain && model.classes > 1 {
            return .refused(
                Answer(
                    status: 400,
                    body: RequestError(
                        400, "explanations of a multiclass model (\(model.classes) classes) are not served",
                        field: "explain"
                    ).json))
        }
        return .request(
            PredictRequest(model: model, fields: fields, asOf: now(), keys: fields.entityKeys(model.plan)))
    }

    /// `explain` asks for the explanation as `"explain": true` in the body does (`?explain=true`).
    public func predict(_ body: [UInt8], explain: Bool = false) -> Answer {
        answered(prepare(body, explain: explain), answer)
    }

    /// The same without blocking `loop` on the store (Redis); the HTTP answer is given to `done` on
    /// `loop`.
    public func predict(
        _ body: [UInt8], explain: Bool = false, on loop: any EventLoop,
        done: @escaping @Sendable (HTTPAnswer) -> Void
    ) {
        switch prepare(body, explain: explain) {
        case .refused(let refusal): done(ServeHTTP.answer(refusal))
        case .request(let request): reader.read(request.keys, on: loop) { done(self.served(request, $0)) }
        }
    }

    /// A prepared request answered from its store read, which blocks.
    func answered<R: StoreRequest>(_ prepared: Prepared<R>, _ answer: (R, StoreReader.Result) -> Answer) -> Answer {
        switch prepared {
        case .refused(let refusal): return refusal
        case .request(let request): return answer(request, reader.read(request.keys))
        }
    }

    /// A prepared request answered from its store read, on `loop` without blocking it.
    func answered<R: StoreRequest>(
        _ prepared: Prepared<R>, on loop: any EventLoop, done: @escaping @Sendable (Answer) -> Void,
        _ answer: @escaping @Sendable (R, StoreReader.Result) -> Answer
    ) {
        switch prepared {
        case .refused(let refusal): done(refusal)
        case .request(let request): reader.read(request.keys, on: loop) { done(answer(request, $0)) }
        }
    }

    /// Scores a request from its stored states.
    func answer(_ request: PredictRequest, _ read: StoreReader.Result) -> Answer {
        let served = served(request, read)
        return Answer(status: served.status, body: String(decoding: served.body.dropLast(), as: UTF8.self))
    }

    /// Scores a request from its stored states: the answer as served, its JSON written as bytes
    /// from the model's constant pieces (`PredictPlan`) and ended by a newline.
    func served(_ request: PredictRequest, _ read: StoreReader.Result) -> HTTPAnswer {
        let (model, asOf) = (request.model, request.asOf)
        let (plan, lookup) = (model.plan, model.lookup)
        var states = [EntityState?](repeating: nil, count: plan.entityCount)
        var newest: Micros?
        let begin = monotonicNanos()
        for (k, v) in zip(request.keys, read.values) {
            guard let v, let s = lookup.state(entity: k.entity, stored: v, undecodable: undecodable) else { continue }
            states[k.entity] = s
            newest = max(newest ?? s.lastTime, s.lastTime)
        }
        let values = lookup.row(states: states, fields: request.fields.schemaValues(plan), asOf: asOf)
        let probabilities = model.classes > 1 ? model.probabilities(values) : []
        let score = probabilities.max() ?? model.score(values)
        metrics.observe(predictSeconds, Double(monotonicNanos() - begin) / 1e9)
        if read.degraded { metrics.add("fsml_serve_degraded_total", help: "Answers scored without the online store.") }
        if let log {
            log.record(
                time: asOf, version: model.version, ids: request.fields.ids(model.contract),
                features: lookup.featureNames, values: values, score: score)
        }
        var json: [UInt8] = []
        json.reserveCapacity(256)
        json.append(contentsOf: #"{"score":"#.utf8)
        json.append(contentsOf: JSONText.number(score).utf8)
        if !probabilities.isEmpty {
            // The most likely class (the first of equals) and every class's probability.
            json.append(contentsOf: #","class":"#.utf8)
            json.append(contentsOf: "\(probabilities.firstIndex(of: score)!)".utf8)
            json.append(contentsOf: #","probabilities":["#.utf8)
            json.append(contentsOf: probabilities.map { JSONText.number($0) }.joined(separator: ",").utf8)
            json.append(UInt8(ascii: "]"))
        }
        json.append(contentsOf: #","features_freshness_ms":"#.utf8)
        json.append(contentsOf: (newest.map { JSONText.number(Double(asOf - $0) / 1000) } ?? "null").utf8)
        json.append(contentsOf: plan.versionAndMissing)
        var first = true
        for (i, v) in values.enumerated() where v.isNaN {
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
            json.append(contentsOf: plan.quotedFeatures[i])
        }
        json.append(contentsOf: #"],"missing_entities":["#.utf8)
        // The entities the model reads that contribute nothing: no key given, never seen, or expired.
        let registry = lookup.registry
        first = true
        for e in model.contract.entities {
            if let s = states[e], !s.isEmpty,
                !WindowRule.isExpired(lastEvent: s.lastTime, asOf: asOf, ttl: registry.entities[e].ttl)
            {
                continue
            }
            if !first { json.append(UInt8(ascii: ",")) }
            first = false
            json.append(contentsOf: plan.quotedEntities[e])
        }
        json.append(UInt8(ascii: "]"))
        if read.degraded { json.append(contentsOf: #","degraded":true"#.utf8) }
        if request.fields.explain { appendExplanation(model, values, to: &json) }
        json.append(contentsOf: "}\n".utf8)
        return HTTPAnswer(status: 200, bytes: json)
    }

    /// Contributions listed in an explained answer: the largest by absolute value.
    public static let explainTop = 10

    /// `,"explanation":{"bias":b,"contributions":[{"feature":f,"value":x,"shap":c},...]}`: the row's
    /// largest SHAP contributions (margin units, as `fsml explain` computes them), a missing value
    /// as null; the bias and every contribution add up to the margin.
    func appendExplanation(_ model: LoadedModel, _ row: [Float], to json: inout [UInt8]) {
        let phi = model.explainer.contributions(row)
        let features = phi.count - 1
        json.append(contentsOf: #","explanation":{"bias":"#.utf8)
        json.append(contentsOf: JSONText.number(phi[features]).utf8)
        json.append(contentsOf: #","contributions":["#.utf8)
        for (k, c) in SHAPValues.top(Array(phi[..<features]), Self.explainTop).enumerated() {
            if k > 0 { json.append(UInt8(ascii: ",")) }
            json.append(contentsOf: #"{"feature":"#.utf8)
            json.append(contentsOf: model.plan.quotedFeatures[c.feature])
            json.append(contentsOf: #","value":"#.utf8)
            let x = row[c.feature]
            json.append(contentsOf: (x.isNaN ? "null" : JSONText.number(Double(x))).utf8)
            json.append(contentsOf: #","shap":"#.utf8)
            json.append(contentsOf: JSONText.number(c.value).utf8)
            json.append(UInt8(ascii: "}"))
        }
        json.append(contentsOf: "]}".utf8)
    }

    /// The current values of one entity's features and the age of its state.
    public func features(entity name: String, id: String) -> Answer {
        let lookup = models.current.lookup
        let registry = lookup.registry
        guard let e = registry.entityIndex(name) else {
            return Answer(status: 404, body: RequestError(404, "no entity '\(name)'", field: "entity").json)
        }
        do { try ServeRequests.checkID(id, field: "id") } catch {
            return Answer(status: error.status, body: error.json)
        }
        let asOf = now()
        // A composite key is given joined by ':' (`EntityKeyMaker.join`).
        let read = reader.read([(e, id)])
        if read.degraded {
            return Answer(status: 503, body: RequestError(503, "the online store is unavailable").json)
        }
        let features = registry.features.indices.filter {
            registry.features[$0].entity == e && !registry.isRequestTime($0)
        }
        let state = lookup.states([e: read.values[0]], undecodable: undecodable)[e]
        var json =
            "{\"entity\":\(JSONText.quote(name)),\"id\":\(JSONText.quote(id)),\"as_of\":\(JSONText.quote(Timestamp.format(asOf)))"
        json += ",\"age_seconds\":" + (state.map { JSONText.number(Double(asOf - $0.lastTime) / 1e6) } ?? "null")
        json += ",\"features\":{"
        json += features.map { f in
            let v = lookup.engine.value(feature: f, state: state, asOf: asOf)
            return "\(JSONText.quote(registry.features[f].name)):\(v.isNaN ? "null" : JSONText.number(v))"
        }.joined(separator: ",")
        return Answer(status: 200, body: json + "}}")
    }

    public func ready() -> Answer {
        let storeOK = reader.storeAvailable
        let other = readiness?()
        let ready = storeOK && other == nil
        var body =
            "{\"ready\":\(ready),\"model_version\":\(JSONText.quote(models.current.version)),\"store\":\(JSONText.quote(reader.description)),\"store_reachable\":\(storeOK)"
        if let other { body += ",\"reason\":\(JSONText.quote(other))" }
        return Answer(status: ready ? 200 : 503, body: body + "}")
    }

}
