import FeatureCore
import FsmlCore
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
        let fields: ServeRequests.Fields
        let asOf: Micros
        let keys: [(entity: Int, key: String)]
    }

    /// A request ready for its store read, or the answer that refuses it.
    enum Prepared<Request> {
        case request(Request)
        case refused(Answer)
    }

    func prepare(_ body: [UInt8]) -> Prepared<PredictRequest> {
        let model = models.current
        do {
            let fields = try ServeRequests.predict(body, contract: model.contract)
            let keys = model.lookup.keys(fields.keys, entities: model.contract.entities)
            return .request(PredictRequest(model: model, fields: fields, asOf: now(), keys: keys))
        } catch {
            return .refused(Answer(status: error.status, body: error.json))
        }
    }

    public func predict(_ body: [UInt8]) -> Answer { answered(prepare(body), answer) }

    /// The same without blocking `loop` on the store (Redis); the answer is given to `done` on `loop`.
    public func predict(_ body: [UInt8], on loop: any EventLoop, done: @escaping @Sendable (Answer) -> Void) {
        answered(prepare(body), on: loop, done: done) { self.answer($0, $1) }
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
        let (model, fields, asOf, keys) = (request.model, request.fields, request.asOf, request.keys)
        var stored: [Int: [UInt8]?] = [:]
        for (k, v) in zip(keys, read.values) { stored[k.entity] = v }
        let begin = monotonicNanos()
        let states = model.lookup.states(stored, undecodable: undecodable)
        let vector = model.lookup.vector(states: states, fields: model.lookup.fieldValues(fields), asOf: asOf)
        let score = model.score(vector.values)
        metrics.observe(predictSeconds, Double(monotonicNanos() - begin) / 1e9)
        if read.degraded { metrics.add("fsml_serve_degraded_total", help: "Answers scored without the online store.") }
        if let log {
            let ids = model.contract.keyFields.compactMap { f in fields.keys[f].map { (f, $0) } }
            log.record(
                time: asOf, version: model.version, ids: ids, features: model.lookup.featureNames,
                values: vector.values, score: score)
        }
        var json = "{\"score\":\(JSONText.number(score)),\"features_freshness_ms\":"
        json += vector.newest.map { JSONText.number(Double(asOf - $0) / 1000) } ?? "null"
        json += ",\"model_version\":\(JSONText.quote(model.version)),\"missing\":["
        json += vector.missing.map(JSONText.quote).joined(separator: ",") + "],\"missing_entities\":"
        json += missingEntities(model, states: states, asOf: asOf)
        if read.degraded { json += ",\"degraded\":true" }
        return Answer(status: 200, body: json + "}")
    }

    /// The entities the model reads that contribute nothing: no key given, never seen, or expired.
    private func missingEntities(_ model: LoadedModel, states: [Int: EntityState], asOf: Micros) -> String {
        let registry = model.lookup.registry
        let missing = model.contract.entities.filter { e in
            guard let s = states[e], !s.isEmpty else { return true }
            return WindowRule.isExpired(lastEvent: s.lastTime, asOf: asOf, ttl: registry.entities[e].ttl)
        }
        return "[" + missing.map { JSONText.quote(registry.entities[$0].name) }.joined(separator: ",") + "]"
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
