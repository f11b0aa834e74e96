import FeatureCore
import FsmlCore
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

    public init(
        models: ModelHandle, reader: StoreReader, clock: ServingClock, log: ServedLog?, metrics: MetricsRegistry,
        readiness: (@Sendable () -> String?)? = nil
    ) {
        self.readiness = readiness
        metrics.add(
            "fsml_serve_undecodable_states_total", 0,
            help: "Stored entity states that did not decode (corrupt, or written under other definitions).")
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
    private func undecodable(_ entity: Int, _ why: String) {
        metrics.add("fsml_serve_undecodable_states_total")
        let name = models.current.lookup.registry.entities[entity].name
        undecodableLog.line("fsml serve: a stored \(name) state does not decode (\(why)); served as missing")
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: String
    }

    public func predict(_ body: [UInt8]) -> Answer {
        let request: ServeRequests.Predict
        do { request = try ServeRequests.predict(body) } catch { return Answer(status: error.status, body: error.json) }
        let model = models.current
        let asOf = now()
        var fields = ["user_id": request.userID, "product_id": request.productID]
        if let s = request.sessionID { fields["session_id"] = s }
        let keys = model.lookup.keys(fields)
        let read = reader.read(keys)
        var stored: [Int: [UInt8]?] = [:]
        for (k, v) in zip(keys, read.values) { stored[k.entity] = v }
        let begin = monotonicNanos()
        let vector = model.lookup.vector(stored: stored, asOf: asOf, undecodable: undecodable)
        let score = model.score(vector.values)
        metrics.observe(
            "fsml_serve_predict_seconds", Double(monotonicNanos() - begin) / 1e9,
            help: "Feature evaluation and scoring, after the store read.")
        if read.degraded { metrics.add("fsml_serve_degraded_total", help: "Answers scored without the online store.") }
        log?.record(
            time: asOf, version: model.version,
            ids: [("user_id", request.userID), ("product_id", request.productID)]
                + (request.sessionID.map { [("session_id", $0)] } ?? []),
            features: model.lookup.featureNames, values: vector.values, score: score)
        var json = "{\"score\":\(JSONText.number(score)),\"features_freshness_ms\":"
        json += vector.newest.map { JSONText.number(Double(asOf - $0) / 1000) } ?? "null"
        json += ",\"model_version\":\(JSONText.quote(model.version)),\"missing\":["
        json += vector.missing.map(JSONText.quote).joined(separator: ",") + "]"
        if read.degraded { json += ",\"degraded\":true" }
        return Answer(status: 200, body: json + "}")
    }

    public func rank(_ body: [UInt8]) -> Answer {
        let request: ServeRequests.Rank
        do { request = try ServeRequests.rank(body) } catch { return Answer(status: error.status, body: error.json) }
        let model = models.current
        let asOf = now()
        var common = ["user_id": request.userID]
        if let s = request.sessionID { common["session_id"] = s }
        let commonKeys = model.lookup.keys(common)
        let productEntity = model.lookup.registry.entities.indices.first {
            model.lookup.keyFields(entity: $0) == ["product_id"]
        }
        // One round trip for the user, the session and every product.
        var keys = commonKeys
        if let productEntity { keys += request.productIDs.map { (productEntity, EntityKeyMaker.join([$0])) } }
        let read = reader.read(keys)
        // The user's and session's states are decoded once, each product's once.
        var stored: [Int: [UInt8]?] = [:]
        for (k, v) in zip(commonKeys, read.values) { stored[k.entity] = v }
        var states = model.lookup.states(stored, undecodable: undecodable)
        var scored: [(String, Double)] = []
        scored.reserveCapacity(request.productIDs.count)
        for (i, product) in request.productIDs.enumerated() {
            if let productEntity {
                states[productEntity] =
                    model.lookup.states(
                        [productEntity: read.values[commonKeys.count + i]], undecodable: undecodable)[productEntity]
            }
            scored.append((product, model.score(model.lookup.vector(states: states, asOf: asOf).values)))
        }
        scored.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        var json = "{\"model_version\":\(JSONText.quote(model.version)),\"ranked\":["
        json += scored.map { "{\"product_id\":\(JSONText.quote($0.0)),\"score\":\(JSONText.number($0.1))}" }
            .joined(separator: ",")
        json += "]" + (read.degraded ? ",\"degraded\":true" : "") + "}"
        return Answer(status: 200, body: json)
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
        // A composite key (the session) is given joined: user_id:session_id.
        let read = reader.read([(e, id)])
        if read.degraded {
            return Answer(status: 503, body: RequestError(503, "the online store is unavailable").json)
        }
        let features = registry.features.indices.filter { registry.features[$0].entity == e }
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
