import Foundation
import FsmlCore
import FsmlTestSupport
import GBDT
import Testing
import Tracking

/// The second reference project end to end against a real redis-server: generate card
/// authorizations → stream → train → promote → serve → /predict and /rank equal point-in-time
/// offline predictions → parity.
@Suite struct RiskProjectTests {
    @Test func cardRiskFromEventsToServedScores() throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try BinaryRunner.run(["init", "--template", "risk"], in: dir).status == 0)
        let generate = try BinaryRunner.run(
            [
                "generate", "events", "--template", "risk", "--events", "40000", "--users", "1200", "--products",
                "150", "--days", "12", "--seed", "9", "--out", "events.jsonl",
            ], in: dir)
        #expect(generate.status == 0, "\(generate.stderr)")
        let stream = try BinaryRunner.run(
            ["stream", "--source", "file:events.jsonl", "--until-end", "--online", redis.url], in: dir)
        #expect(stream.status == 0, "\(stream.stderr)")
        let train = try BinaryRunner.run(
            [
                "train", "--experiment", "risk", "--run-name", "cards", "--param", "num_iterations=12", "--format",
                "json",
            ],
            in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        // Fraud the features can see: the model ranks chargebacks well above chance.
        let metrics = try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as! [String: Any]
        let auc = (metrics["metrics"] as? [String: Any])?["valid_auc"] as? Double ?? 0
        #expect(auc > 0.75, "\(train.stdout.prefix(400))")
        #expect(try BinaryRunner.run(["runs", "promote", "cards"], in: dir).status == 0)
        let server = try ServeCommandTests.Server.start(
            [
                "--experiment", "risk", "--online", redis.url, "--config", "\(dir)/fsml.yaml", "--tracking-dir",
                "\(dir)/experiments",
            ], dir: dir, name: "serve")
        defer {
            server.child.signal(SIGTERM)
            server.child.wait()
        }
        let model = try AnyModel.load(
            path: try TrackingStore(root: "\(dir)/experiments").findRun("cards").artifactsDirectory + "/model.json")

        // Authorizations from the traffic: the card, the merchant, the amount.
        let events = try ServeCommandTests.events("\(dir)/events.jsonl").filter {
            $0["event_type"] as? String == "authorization"
        }
        var requests: [(card: String, merchant: String, amount: Double)] = []
        for e in events.prefix(events.count * 3 / 4) {
            let (card, merchant) = (e["card_id"] as! String, e["merchant_id"] as! String)
            if requests.count < 12 && !requests.contains(where: { $0.card == card }) {
                requests.append((card, merchant, e["amount"] as! Double))
            }
        }
        var scores: [Double] = []
        for r in requests {
            let answer = try server.json(
                "/predict", "{\"card_id\":\"\(r.card)\",\"merchant_id\":\"\(r.merchant)\",\"amount\":\(r.amount)}")
            #expect(answer["missing_entities"] as? [String] == [], "\(answer)")
            scores.append(answer["score"] as! Double)
        }
        let noMerchant = try server.post("/predict", "{\"card_id\":\"c\"}")
        #expect(noMerchant.status == 400 && noMerchant.body.contains("merchant_id is required"))
        // /rank: merchants for one card, each with its amount; scores as /predict gives them.
        let candidates = requests.map { "{\"merchant_id\":\"\($0.merchant)\",\"amount\":\($0.amount)}" }
        let ranked = try server.json(
            "/rank", "{\"card_id\":\"\(requests[0].card)\",\"candidates\":[\(candidates.joined(separator: ","))]}")
        for item in ranked["ranked"] as! [[String: Any]] {
            let merchant = item["merchant_id"] as! String
            let amount = requests.first { $0.merchant == merchant }!.amount
            let single = try server.json(
                "/predict", "{\"card_id\":\"\(requests[0].card)\",\"merchant_id\":\"\(merchant)\",\"amount\":\(amount)}"
            )
            #expect(item["score"] as! Double == single["score"] as! Double)
        }
        // Point in time from the offline store at the serving clock: the same scores.
        let clock =
            try JSONSerialization.jsonObject(
                with: Data(try HTTPGet.get(port: server.port, path: "/features/card/\(requests[0].card)").body.utf8))
            as! [String: Any]
        var spine = "card_id,merchant_id,amount,event_ts\n"
        for r in requests { spine += "\(r.card),\(r.merchant),\(r.amount),\(clock["as_of"] as! String)\n" }
        try ServeCommandTests.expectOfflineScores(spine, equal: scores, model: model, dir: dir)
        let parity = try BinaryRunner.run(
            ["parity", "--online", redis.url, "--sample", "300", "--format", "json"], in: dir)
        #expect(parity.status == 0, "\(parity.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(parity.stdout.utf8)) as! [String: Any]
        #expect(result["mismatches"] as? Int == 0 && (result["compared"] as! Int) > 1000, "\(result)")
    }
}
