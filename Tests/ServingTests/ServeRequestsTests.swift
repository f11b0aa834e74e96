import Testing

@testable import Serving

@Suite struct ServeRequestsTests {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func aValidPredictAndRank() throws {
        let p = try ServeRequests.predict(
            Self.bytes("{\"user_id\":\"u1\",\"product_id\":\"p1\",\"session_id\":\"s1\"}"))
        #expect(p == ServeRequests.Predict(userID: "u1", productID: "p1", sessionID: "s1"))
        let noSession = try ServeRequests.predict(
            Self.bytes("{\"user_id\":\"u1\",\"product_id\":\"p1\",\"session_id\":null}"))
        #expect(noSession.sessionID == nil)
        let r = try ServeRequests.rank(Self.bytes("{\"user_id\":\"u1\",\"product_ids\":[\"a\",\"b\"]}"))
        #expect(r.productIDs == ["a", "b"] && r.sessionID == nil)
    }

    @Test(arguments: [
        ("{\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":1,\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":\"\",\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":\"a\\nb\",\"product_id\":\"p\"}", 400, "user_id"),
        ("{\"user_id\":\"u\",\"product_id\":[\"p\"]}", 400, "product_id"),
        ("{\"user_id\":\"u\",\"product_id\":\"p\",\"session_id\":7}", 400, "session_id"),
        ("[]", 400, ""),
        ("{", 400, ""),
    ])
    func badPredictBodies(body: String, status: Int, field: String) {
        #expect {
            _ = try ServeRequests.predict(Self.bytes(body))
        } throws: { error in
            let e = error as! RequestError
            return e.status == status && (e.field ?? "") == field
        }
    }

    @Test func rankLimitsAndBodySize() {
        let many = (0...ServeRequests.maxRankProducts).map { "\"p\($0)\"" }.joined(separator: ",")
        #expect(throws: RequestError(400, "product_ids holds 1001 ids; at most 1000", field: "product_ids")) {
            _ = try ServeRequests.rank(Self.bytes("{\"user_id\":\"u\",\"product_ids\":[\(many)]}"))
        }
        #expect(throws: RequestError(400, "product_ids[1] must be a string", field: "product_ids")) {
            _ = try ServeRequests.rank(Self.bytes("{\"user_id\":\"u\",\"product_ids\":[\"a\",2]}"))
        }
        let big = [UInt8](repeating: UInt8(ascii: " "), count: ServeRequests.maxBodyBytes + 1)
        #expect(throws: RequestError(413, "the body is over 65536 bytes")) { _ = try ServeRequests.predict(big) }
        #expect(RequestError(400, "x \"y\"", field: "f").json == "{\"error\":\"x \\\"y\\\"\",\"field\":\"f\"}")
    }
}
