import FeatureConfig
import FeatureCore
import FsmlTestSupport
import Testing

@testable import Serving

/// Request bodies against the serving contract of the reference shop (user, product, session)
/// and of a project that shares no name with it (account, terminal).
@Suite struct ServeRequestsTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    static let shopRegistry = EventFactory.referenceRegistry()
    static let shop = ServingContract(registry: shopRegistry, features: shopRegistry.servedFeatures)

    @Test func theShopContractIsReadFromItsEntities() {
        #expect(Self.shop.keyFields == ["user_id", "product_id", "session_id"])
        #expect(Self.shop.requestFields.keys.sorted() == ["device.mobile", "device.os", "geo.country", "price"])
        #expect(Self.shop.requiredFields == ["user_id", "product_id"])
    }

    @Test func aValidPredictAndRank() throws {
        let p = try ServeRequests.predict(
            Self.bytes("{\"user_id\":\"u1\",\"product_id\":\"p1\",\"session_id\":\"s1\"}"), contract: Self.shop)
        #expect(p.keys == ["user_id": "u1", "product_id": "p1", "session_id": "s1"] && p.values.isEmpty)
        let noSession = try ServeRequests.predict(
            Self.bytes("{\"user_id\":\"u1\",\"product_id\":7,\"session_id\":null}"), contract: Self.shop)
        #expect(noSession.keys == ["user_id": "u1", "product_id": "7"])
        let r = try ServeRequests.rank(
            Self.bytes("{\"user_id\":\"u1\",\"product_ids\":[\"a\",\"b\"]}"), contract: Self.shop)
        #expect(
            r.shared.keys == ["user_id": "u1"]
                && r.candidates.map(\.keys) == [["product_id": "a"], ["product_id": "b"]])
        #expect(r.candidateFields == ["product_id"])
        let long = try ServeRequests.rank(
            Self.bytes(
                "{\"candidates\":[{\"user_id\":\"u1\",\"product_id\":\"a\"},{\"user_id\":\"u2\",\"product_id\":\"b\"}]}"
            ),
            contract: Self.shop)
        #expect(long.shared == ServeRequests.Fields() && long.candidateFields == ["user_id", "product_id"])
    }

    @Test(arguments: [
        ("{\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":true,\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":1.5,\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":\"\",\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":\"a\\nb\",\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":\"u\",\"product_id\":[\"p\"]}", 400, "product_id"),
        ("{\"user_id\":\"u\",\"product_id\":\"p\",\"session_id\":{}}", 400, "session_id"),
        ("{\"user_id\":\"u\",\"product_id\":\"p\",\"card_id\":\"c\"}", 400, "card_id"),
        ("{\"user_id\":\"u\",\"product_id\":\"p\",\"explain\":\"yes\"}", 400, "explain"),
        ("{\"user_id\":\"u\",\"user_id\":\"v\",\"product_id\":\"p\"}", 400, ""),
        ("[]", 400, ""),
        ("{", 400, ""),
    ])
    func badPredictBodies(body: String, status: Int, field: String) {
        #expect {
            _ = try ServeRequests.predict(Self.bytes(body), contract: Self.shop)
        } throws: { error in
            let e = error as! RequestError
            return e.status == status && (e.field ?? "") == field
        }
    }

    @Test func unknownFieldsAreNamedWithTheContract() {
        #expect(
            throws: RequestError(
                400,
                "unknown field 'card_id' (the model reads: user_id, product_id, session_id, device.mobile, device.os, geo.country, price)",
                field: "card_id")
        ) {
            _ = try ServeRequests.predict(Self.bytes("{\"card_id\":\"c\"}"), contract: Self.shop)
        }
    }

    @Test func rankLimitsAndBodySize() {
        let many = (0...ServeRequests.maxCandidates).map { "\"p\($0)\"" }.joined(separator: ",")
        #expect(throws: RequestError(400, "product_ids holds 1001 candidates; at most 1000", field: "product_ids")) {
            _ = try ServeRequests.rank(Self.bytes("{\"user_id\":\"u\",\"product_ids\":[\(many)]}"), contract: Self.shop)
        }
        #expect(throws: RequestError(400, "product_ids[1] must be a string or a whole number", field: "product_ids")) {
            _ = try ServeRequests.rank(
                Self.bytes("{\"user_id\":\"u\",\"product_ids\":[\"a\",true]}"), contract: Self.shop)
        }
        #expect(
            throws: RequestError(400, "candidates is required (a list of objects of key fields)", field: "candidates")
        ) {
            _ = try ServeRequests.rank(Self.bytes("{\"user_id\":\"u\"}"), contract: Self.shop)
        }
        #expect(throws: RequestError(400, "user_id is required", field: "user_id")) {
            _ = try ServeRequests.rank(Self.bytes("{\"product_ids\":[\"a\"]}"), contract: Self.shop)
        }
        #expect(throws: RequestError(400, "product_id is given both for all and per candidate", field: "product_id")) {
            _ = try ServeRequests.rank(
                Self.bytes("{\"user_id\":\"u\",\"product_id\":\"x\",\"product_ids\":[\"a\"]}"), contract: Self.shop)
        }
        let big = [UInt8](repeating: UInt8(ascii: " "), count: ServeRequests.maxBodyBytes + 1)
        #expect(throws: RequestError(413, "the body is over 65536 bytes")) {
            _ = try ServeRequests.predict(big, contract: Self.shop)
        }
        #expect(RequestError(400, "x \"y\"", field: "f").json == "{\"error\":\"x \\\"y\\\"\",\"field\":\"f\"}")
    }

    /// A project whose names share nothing with the shop: accounts and terminals, and their pair.
    @Test func anyProjectsKeysMakeItsContract() throws {
        let yaml = ReferenceProject.yaml
            .replacingOccurrences(of: "user_id", with: "account_ref").replacingOccurrences(
                of: "product_id", with: "terminal_ref"
            )
            .replacingOccurrences(of: "session_id", with: "visit_ref")
        let registry = try RegistryLoader.parse(yaml, file: "fsml.yaml")
        let contract = ServingContract(registry: registry, features: registry.servedFeatures)
        #expect(contract.keyFields == ["account_ref", "terminal_ref", "visit_ref"])
        #expect(
            try ServeRequests.predict(Self.bytes("{\"account_ref\":\"a\",\"terminal_ref\":12}"), contract: contract)
                .keys == ["account_ref": "a", "terminal_ref": "12"])
        #expect(throws: RequestError.self) {
            _ = try ServeRequests.predict(Self.bytes("{\"user_id\":\"u\",\"product_id\":\"p\"}"), contract: contract)
        }
        // A model that reads only a pair entity needs both of its keys.
        let pair = ServingContract(
            registry: registry, features: registry.features.indices.filter { registry.features[$0].entity == 2 })
        #expect(pair.requiredFields == ["account_ref", "visit_ref"])
    }
}
