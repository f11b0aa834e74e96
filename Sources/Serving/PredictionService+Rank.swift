import FeatureCore
import FsmlCore
import NIOCore

/// `/rank`: candidates scored with the same features and model as `/predict`, best first.
extension PredictionService {
    /// A /rank request read and checked, with the entity keys it names: the shared ones first, then
    /// each candidate's.
    struct RankRequest: StoreRequest {
        let model: LoadedModel
        let request: ServeRequests.Rank
        let asOf: Micros
        let keys: [StoreReader.Key]
        let sharedCount: Int
        let candidateKeys: [[StoreReader.Key]]
    }

    func prepareRank(_ body: [UInt8]) -> Prepared<RankRequest> {
        let model = models.current
        guard model.classes == 1 else {
            let message =
                "the served model is multiclass (\(model.classes) classes): /rank orders by one score; use /predict"
            return .refused(Answer(status: 400, body: RequestError(400, message).json))
        }
        let request: ServeRequests.Rank
        do { request = try ServeRequests.rank(body, contract: model.contract) } catch {
            return .refused(Answer(status: error.status, body: error.json))
        }
        let lookup = model.lookup
        // Entities keyed by shared fields alone are read once; the others once per candidate
        // (the product, the user×product pair), all in one round trip.
        let candidateFields = Set(request.candidateFields)
        let perCandidate = model.contract.entities.filter { e in
            lookup.keyFields(entity: e).contains(where: candidateFields.contains)
        }
        let sharedEntities = model.contract.entities.filter { !perCandidate.contains($0) }
        var keys = lookup.keys(request.shared.keys, entities: sharedEntities)
        let sharedCount = keys.count
        var candidateKeys: [[StoreReader.Key]] = []
        candidateKeys.reserveCapacity(request.candidates.count)
        for c in request.candidates {
            let k = lookup.keys(request.shared.keys.merging(c.keys) { a, _ in a }, entities: perCandidate)
            candidateKeys.append(k)
            keys += k
        }
        return .request(
            RankRequest(
                model: model, request: request, asOf: now(), keys: keys, sharedCount: sharedCount,
                candidateKeys: candidateKeys))
    }

    public func rank(_ body: [UInt8]) -> Answer { answered(prepareRank(body), rankAnswer) }

    /// The same without blocking `loop` on the store (Redis); the answer is given to `done` on `loop`.
    public func rank(_ body: [UInt8], on loop: any EventLoop, done: @escaping @Sendable (Answer) -> Void) {
        answered(prepareRank(body), on: loop, done: done) { self.rankAnswer($0, $1) }
    }

    /// Scores every candidate from the stored states and orders them.
    func rankAnswer(_ r: RankRequest, _ read: StoreReader.Result) -> Answer {
        let (model, request, asOf) = (r.model, r.request, r.asOf)
        let lookup = model.lookup
        var stored: [Int: [UInt8]?] = [:]
        for (k, v) in zip(r.keys.prefix(r.sharedCount), read.values) { stored[k.entity] = v }
        let shared = lookup.states(stored, undecodable: undecodable)
        var scored: [(Int, Double)] = []
        scored.reserveCapacity(request.candidates.count)
        var offset = r.sharedCount
        for (i, k) in r.candidateKeys.enumerated() {
            var own: [Int: [UInt8]?] = [:]
            for (j, key) in k.enumerated() { own[key.entity] = read.values[offset + j] }
            offset += k.count
            let states = shared.merging(lookup.states(own, undecodable: undecodable)) { a, _ in a }
            let fields = lookup.fieldValues(request.candidates[i].merging(request.shared))
            scored.append((i, model.score(lookup.vector(states: states, fields: fields, asOf: asOf).values)))
        }
        // Ties in score go by the candidates' keys, so an answer never depends on request order.
        let tieKeys = request.candidates.map { c in request.candidateFields.map { c.keys[$0] ?? "" } }
        scored.sort { $0.1 != $1.1 ? $0.1 > $1.1 : tieKeys[$0.0].lexicographicallyPrecedes(tieKeys[$1.0]) }
        var json = "{\"model_version\":\(JSONText.quote(model.version)),\"ranked\":["
        json += scored.map { i, score in
            let c = request.candidates[i]
            let fields = request.candidateFields.compactMap { f in
                c.keys[f].map { "\(JSONText.quote(f)):\(JSONText.quote($0))" }
            }
            return "{" + fields.joined(separator: ",") + ",\"score\":\(JSONText.number(score))}"
        }.joined(separator: ",")
        json += "]" + (read.degraded ? ",\"degraded\":true" : "") + "}"
        return Answer(status: 200, body: json)
    }
}
