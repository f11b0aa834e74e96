import Foundation
import FsmlCore
import FsmlTestSupport
import GBDT
import Testing

@testable import Serving

/// `/predict` with `"explain": true` in the body or `?explain=true`, on a live loopback server:
/// the answer carries the top SHAP contributions of the row it scored, as `fsml explain`'s code
/// computes them, and the bias with every contribution adds up to the score's margin. In the
/// serialized suite of the other live tests (see the pipelining test for why).
extension HTTPServerConnectionTests {
    static func postJSON(_ port: Int, _ target: String, _ body: String) throws -> JSONNode {
        let response = try HTTPGet.raw(
            port: port,
            Array(
                "POST \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                    .utf8))
        #expect(status(response) == 200, "\(response.prefix(300))")
        return try JSONParser.parse(Array(response.components(separatedBy: "\r\n\r\n").dropFirst().joined().utf8))
    }

    @Test func explainInTheBodyOrTheQueryReturnsTheTopContributions() throws {
        let f = try PredictionServiceTests.Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let bound = PortBox()
        let service = f.service
        let task = Task {
            try await ServeHTTP.run(
                service: service, metrics: MetricsRegistry(), host: "127.0.0.1", port: 0,
                limits: Self.patient
            ) { bound.set($0) }
        }
        defer { task.cancel() }
        let port = bound.wait()
        let fields = #""user_id":"u1","product_id":"p1","session_id":"s1","price":12.5"#
        let plain = try Self.postJSON(port, "/predict", "{\(fields)}")
        #expect(plain["explanation"] == nil)
        let viaQuery = try Self.postJSON(port, "/predict?explain=true", "{\(fields)}")
        let viaBody = try Self.postJSON(port, "/predict", "{\(fields),\"explain\":true}")
        // The general reader (a body the scanner leaves to it: an escape) reads the flag too.
        let viaGeneral = try Self.postJSON(port, "/predict", "{\(fields),\"expl\\u0061in\":true}")
        let score = try #require(plain["score"]?.double)

        guard case .gbdt(let model) = f.model else {
            Issue.record("the fixture's model is not a tree model")
            return
        }
        let vector = f.vector(user: "u1", product: "p1", session: "s1", price: 12.5)
        let phi = TreeExplainer(model).contributions(vector)
        let top = SHAPValues.top(Array(phi.dropLast()), PredictionService.explainTop)
        let names = model.featureNames
        for answer in [viaQuery, viaBody, viaGeneral] {
            #expect(answer["score"]?.double == score)
            let explanation = try #require(answer["explanation"])
            #expect(explanation["bias"]?.double == phi.last)
            let listed = try #require(explanation["contributions"]?.array)
            #expect(listed.count == min(PredictionService.explainTop, top.count))
            #expect(listed.compactMap { $0["feature"]?.string } == top.map { names[$0.feature] })
            #expect(listed.compactMap { $0["shap"]?.double } == top.map(\.value))
            for (item, c) in zip(listed, top) {
                let x = vector[c.feature]
                #expect(x.isNaN ? item["value"] == .null : item["value"]?.double == Double(x))
            }
        }
        // All contributions and the bias add up to the margin of the score.
        #expect(abs(phi.reduce(0, +) - log(score / (1 - score))) < 1e-9)
    }
}
