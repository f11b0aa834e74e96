import FeatureConfig
import FeatureCore
import Foundation
import FsmlTestSupport
import Testing

@testable import Serving

/// Request keys taken from an events file: distinct tuples in the contract's order, events that
/// lack a required key skipped, request fields quoted as JSON members.
@Suite struct RequestIDsTests {
    static let registry = EventFactory.referenceRegistry()
    static let contract = ServingContract(registry: registry, features: registry.servedFeatures)

    static func file(_ lines: [String]) throws -> String {
        let path = NSTemporaryDirectory() + "fsml-ids-\(UUID().uuidString).jsonl"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func distinctTuplesInTheContractsOrder() throws {
        let path = try Self.file([
            #"{"user_id":"u1","product_id":"p1","session_id":"s1","price":9.5,"device":{"os":"ios"}}"#,
            #"{"user_id":"u1","product_id":"p1","session_id":"s1","price":3}"#,
            #"{"user_id":"u2","product_id":"p2"}"#,
            #"{"product_id":"p3"}"#,
            "not json",
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ids = try RequestIDs.load(path: path, contract: Self.contract)
        #expect(ids.fields == ["user_id", "product_id", "session_id"])
        #expect(ids.tuples == [["u1", "p1", "s1"], ["u2", "p2", nil]])
        #expect(ids.requestValues[0] == [#""device.os":"ios""#, #""price":9.5"#])
        #expect(ids.keyMembers(1) == [#""user_id":"u2""#, #""product_id":"p2""#])
        #expect(
            ids.keyMembers(0, except: "session_id", replaced: ("user_id", "x"))
                == [#""user_id":"x""#, #""product_id":"p1""#])
        #expect(ids.fields(1) == ["user_id": "u2", "product_id": "p2"])
    }

    @Test func aFileWithoutUsableEventsIsAnError() throws {
        let path = try Self.file([#"{"product_id":"p3"}"#])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ServingError.self) { try RequestIDs.load(path: path, contract: Self.contract) }
    }
}
