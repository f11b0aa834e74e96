import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

@testable import Serving

/// The bodies of a load test: the same body for the same index, keys from one event, /rank
/// candidates varying the candidate field, a share of unknown ids.
@Suite struct LoadTrafficTests {
    static let registry = RequestIDsTests.registry
    static let contract = RequestIDsTests.contract
    static let ids = RequestIDs(
        fields: ["user_id", "product_id", "session_id"],
        tuples: [["u1", "p1", "s1"], ["u2", "p2", nil], ["u3", "p3", "s3"]],
        requestValues: [[#""price":1"#], [], [#""price":3"#]])

    static func object(_ body: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    @Test func aPredictBodyIsOneEventsKeysAndFields() throws {
        let traffic = try LoadTraffic(
            registry: Self.registry, contract: Self.contract, ids: Self.ids, endpoint: .predict, rankSize: 5,
            unknownFraction: 0, candidate: nil)
        for i in 0..<50 {
            let (method, path, body) = traffic.request(i)
            #expect(method == "POST" && path == "/predict")
            #expect(body == traffic.request(i).body)
            let o = try Self.object(body)
            let t = try #require(Self.ids.tuples.firstIndex { $0[0] == o["user_id"] as? String })
            #expect(o["product_id"] as? String == Self.ids.tuples[t][1])
            #expect(o["session_id"] as? String == Self.ids.tuples[t][2])
            #expect((o["price"] as? Double).map { Int($0) } == [1, nil, 3][t])
        }
    }

    @Test func aRankBodyVariesTheCandidateField() throws {
        let traffic = try LoadTraffic(
            registry: Self.registry, contract: Self.contract, ids: Self.ids, endpoint: .rank, rankSize: 7,
            unknownFraction: 0, candidate: nil)
        let (_, path, body) = traffic.request(3)
        #expect(path == "/rank")
        let o = try Self.object(body)
        #expect(o["product_id"] == nil && o["user_id"] != nil)
        let candidates = try #require(o["candidates"] as? [[String: Any]])
        #expect(candidates.count == 7)
        #expect(candidates.allSatisfy { ["p1", "p2", "p3"].contains($0["product_id"] as? String ?? "") })
        #expect(throws: ServingError.self) {
            try LoadTraffic(
                registry: Self.registry, contract: Self.contract, ids: Self.ids, endpoint: .rank, rankSize: 7,
                unknownFraction: 0, candidate: "nope")
        }
    }

    @Test func unknownIdsComeAtTheirShare() throws {
        let traffic = try LoadTraffic(
            registry: Self.registry, contract: Self.contract, ids: Self.ids, endpoint: .predict, rankSize: 1,
            unknownFraction: 0.25, candidate: nil)
        var unknown = 0
        for i in 0..<4000 {
            let o = try Self.object(traffic.request(i).body)
            if (o["user_id"] as? String)?.hasPrefix("unknown-") == true { unknown += 1 }
        }
        #expect(abs(Double(unknown) / 4000 - 0.25) < 0.03)
    }
}
