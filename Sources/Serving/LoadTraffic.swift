import FeatureCore
import Foundation
import FsmlCore

/// The requests of a load test, made from the key values of real events: request i is a /predict
/// for one event's keys and request fields (or, following a stream job, for an example event it
/// has yet to read), or a /rank over candidates from other events; a fraction asks for an id
/// nobody has seen. Request i is the same body on every run.
public struct LoadTraffic: Sendable {
    public enum Endpoint: String, CaseIterable, Sendable { case predict, rank }

    let ids: RequestIDs
    let endpoint: Endpoint
    let rankSize: Int
    let unknownFraction: Double
    let candidateField: String
    let firstRequired: String
    let follower: StreamFollower<RequestIDs.Request>?

    /// `candidate` is the key field /rank candidates vary (default: the last key field of the
    /// served entities that keys an entity alone).
    public init(
        registry: FeatureRegistry, contract: ServingContract, ids: RequestIDs, endpoint: Endpoint, rankSize: Int,
        unknownFraction: Double, candidate: String?, follower: StreamFollower<RequestIDs.Request>? = nil
    ) throws {
        let singles = contract.entities.map { registry.entities[$0].keyFields }.filter { $0.count == 1 }
        guard let field = candidate ?? singles.last.map({ registry.schema.fields[$0[0]].name }),
            contract.keyFields.contains(field)
        else {
            throw ServingError("--candidate: one of \(contract.keyFields.joined(separator: ", "))")
        }
        (self.ids, self.endpoint, self.rankSize, self.unknownFraction) = (ids, endpoint, rankSize, unknownFraction)
        candidateField = field
        firstRequired = contract.requiredFields.first { $0 != field } ?? contract.requiredFields[0]
        self.follower = follower
    }

    /// Request i. Request fields (an amount shown now) come from the same event as the keys; in
    /// /rank, from each candidate's own event.
    public func request(_ i: Int) -> (method: String, path: String, body: [UInt8]) {
        var g = SeededRandom(seed: UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        let t = Int(g.next() % UInt64(ids.tuples.count))
        let replaced = g.uniform() < unknownFraction ? (firstRequired, "unknown-\(i)") : nil
        var members = ids.keyMembers(t, except: endpoint == .rank ? candidateField : nil, replaced: replaced)
        if endpoint == .rank {
            let candidateIndex = ids.fields.firstIndex(of: candidateField)!
            let candidates = (0..<rankSize).map { _ -> String in
                let c = Int(g.next() % UInt64(ids.tuples.count))
                let key = "\(JSONText.quote(candidateField)):\(JSONText.quote(ids.tuples[c][candidateIndex] ?? "none"))"
                return "{" + ([key] + ids.requestValues[c]).joined(separator: ",") + "}"
            }
            members.append("\"candidates\":[\(candidates.joined(separator: ","))]")
            return ("POST", "/rank", Array("{\(members.joined(separator: ","))}".utf8))
        }
        members += ids.requestValues[t]
        if let (tuple, values) = follower?.item(g.next()) {
            members = RequestIDs.keyMembers(fields: ids.fields, tuple: tuple, replaced: replaced) + values
        }
        return ("POST", "/predict", Array("{\(members.joined(separator: ","))}".utf8))
    }

    /// Request keys from the example events (the label's `example` filter, else every event) of
    /// `path` that the stream job of the server at `host:port` has yet to read.
    public static func follower(
        registry: FeatureRegistry, contract: ServingContract, path: String, host: String, port: Int
    ) throws -> StreamFollower<RequestIDs.Request> {
        let parser = EventParser(schema: registry.schema)
        let example = registry.label?.example
        return try StreamFollower(path: path, host: host, port: port) { line in
            if let example {
                guard case .success(let event) = parser.parse(line), example.matches(event) else { return nil }
            }
            return RequestIDs.request(line, contract: contract)
        }
    }

    /// Waits until the follower knows the stream's position (its first poll of the server's
    /// metrics), then skips to it. `url` names the server in errors.
    public static func startFollowing(_ follower: StreamFollower<RequestIDs.Request>, url: String) throws {
        while follower.position.polls == 0 {
            let p = follower.position
            if p.unfollowable > 0 {
                throw ServingError(
                    "\(url)/metrics has no fsml_stream_source_lines: --follow-stream needs `fsml serve --stream file:...`"
                )
            }
            if p.failures >= 250 { throw ServingError("\(url)/metrics did not answer") }
            usleep(10_000)
        }
        follower.catchUp()
    }
}
