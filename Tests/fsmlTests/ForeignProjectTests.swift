import Foundation
import FsmlCore
import FsmlTestSupport
import GBDT
import Testing
import Tracking

/// A project whose entities, fields and features share no name with the reference shop
/// (accounts, terminals, their pair, `tx_ref`, `amount`), run end to end with the real binary:
/// stream, build, train, promote, serve; /predict and /rank answer from fsml.yaml's contract,
/// request-time features read the request, and served scores equal offline predictions.
@Suite struct ForeignProjectTests {
    static let yaml = """
        project: payments
        events:
          time_field: at
          id_field: tx_ref
          fields:
            tx_ref: {type: string}
            at: {type: timestamp}
            account_ref: {type: string}
            visit_ref: {type: string}
            kind: {type: string, values: [page_view, add_to_cart, purchase]}
            terminal_ref: {type: string}
            amount: {type: float, min: 0}
            currency: {type: string, optional: true}
            device.mobile: {type: bool, optional: true}
            device.os: {type: string, optional: true}
            geo.country: {type: string, optional: true}
            geo.city: {type: string, optional: true}
        allowed_lateness: 10m
        entities:
          account: {key: account_ref, ttl: 7d}
          terminal: {key: terminal_ref, ttl: 3d}
          account_terminal: {key: [account_ref, terminal_ref], ttl: 7d}
        features:
          acct_views_1h: {entity: account, aggregation: count, filter: kind == page_view, window: 1h, hop: 5m}
          acct_amount_avg: {entity: account, aggregation: avg, field: amount, window: 24h, hop: 1h}
          term_views_24h: {entity: terminal, aggregation: count, filter: kind == page_view, window: 24h, hop: 1h}
          term_carts_24h: {entity: terminal, aggregation: count, filter: kind == add_to_cart, window: 24h, hop: 1h}
          term_rate: {entity: terminal, aggregation: ratio, numerator: term_carts_24h, denominator: term_views_24h}
          term_amount_avg: {entity: terminal, aggregation: avg, field: amount, window: 24h, hop: 1h}
          pair_views_24h: {entity: account_terminal, aggregation: count, filter: kind == page_view, window: 24h, hop: 1h}
          pair_since_view: {entity: account_terminal, aggregation: time_since_last, filter: kind == page_view, window: lifetime}
          amount_vs_terminal: {expression: "amount / term_amount_avg"}
        feature_views:
          account_view: {entity: account, features: [acct_views_1h, acct_amount_avg]}
          terminal_view: {entity: terminal, features: [term_rate, term_amount_avg, amount_vs_terminal]}
          pair_view: {entity: account_terminal, features: [pair_views_24h, pair_since_view]}
        label:
          name: carted_30m
          example: kind == page_view
          outcome: kind == add_to_cart
          same: [account_ref, terminal_ref]
          within: 30m
        stores:
          online: sqlite:online.db
          offline: data/offline

        """

    /// The shop's generated events with every field renamed.
    static func events(in dir: String) throws -> [[String: Any]] {
        #expect(
            try BinaryRunner.run(
                [
                    "generate", "events", "--events", "15000", "--users", "200", "--products", "40", "--days", "2",
                    "--seed", "17", "--out", "shop.jsonl",
                ], in: dir
            ).status == 0)
        var text = try String(contentsOfFile: "\(dir)/shop.jsonl", encoding: .utf8)
        for (old, new) in [
            ("event_id", "tx_ref"), ("event_ts", "at"), ("user_id", "account_ref"), ("session_id", "visit_ref"),
            ("event_type", "kind"), ("product_id", "terminal_ref"), ("price", "amount"),
        ] {
            text = text.replacingOccurrences(of: "\"\(old)\":", with: "\"\(new)\":")
        }
        try text.write(toFile: "\(dir)/events.jsonl", atomically: true, encoding: .utf8)
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func streamBuildTrainServeAndRankWithItsOwnNames() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.yaml.write(toFile: "\(dir)/fsml.yaml", atomically: true, encoding: .utf8)
        let events = try Self.events(in: dir)
        let stream = try BinaryRunner.run(["stream", "--source", "file:events.jsonl", "--until-end"], in: dir)
        #expect(stream.status == 0, "\(stream.stderr)")
        let train = try BinaryRunner.run(
            ["train", "--experiment", "risk", "--run-name", "first", "--param", "num_iterations=10"], in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(try BinaryRunner.run(["runs", "promote", "first"], in: dir).status == 0)
        let server = try ServeCommandTests.Server.start(
            ["--experiment", "risk", "--config", "\(dir)/fsml.yaml", "--tracking-dir", "\(dir)/experiments"], dir: dir,
            name: "serve")
        defer {
            server.child.signal(SIGTERM)
            server.child.wait()
        }
        let run = try TrackingStore(root: "\(dir)/experiments").findRun("first")
        let model = try AnyModel.load(path: run.artifactsDirectory + "/model.json")
        #expect(Set(model.featureNames).isSuperset(of: ["pair_views_24h", "amount_vs_terminal"]))

        // The contract is the project's: its own key and request fields, none of the shop's.
        let wrong = try server.post("/predict", "{\"user_id\":\"u\",\"product_id\":\"p\"}")
        #expect(wrong.status == 400 && wrong.body.contains("unknown field 'user_id'"))
        let noTerminal = try server.post("/predict", "{\"account_ref\":\"a\"}")
        #expect(noTerminal.status == 400 && noTerminal.body.contains("terminal_ref is required"))
        let badAmount = try server.post("/predict", "{\"account_ref\":\"a\",\"terminal_ref\":\"t\",\"amount\":\"x\"}")
        #expect(badAmount.status == 400 && badAmount.body.contains("amount must be a number"))
        let nobody = try server.json("/predict", "{\"account_ref\":\"nobody\",\"terminal_ref\":\"nothing\"}")
        #expect(nobody["missing_entities"] as? [String] == ["account", "terminal", "account_terminal"])

        // Requests from the traffic: an account, a terminal it used, and an amount.
        var requests: [(account: String, terminal: String, amount: Double)] = []
        for e in events.prefix(events.count * 3 / 4) {
            guard let a = e["account_ref"] as? String, let t = e["terminal_ref"] as? String,
                let amount = e["amount"] as? Double
            else { continue }
            if requests.count < 12 && !requests.contains(where: { $0.account == a }) { requests.append((a, t, amount)) }
        }
        var scores: [Double] = []
        for r in requests {
            let answer = try server.json(
                "/predict",
                "{\"account_ref\":\"\(r.account)\",\"terminal_ref\":\"\(r.terminal)\",\"amount\":\(r.amount)}")
            #expect(!((answer["missing"] as? [String]) ?? []).contains("amount_vs_terminal"), "\(answer)")
            scores.append(answer["score"] as! Double)
        }
        // /rank: the terminals of the requests as candidates for the first account; each score is
        // the /predict score of that pair, with a per-candidate amount.
        let account = requests[0].account
        let candidates = requests.map { "{\"terminal_ref\":\"\($0.terminal)\",\"amount\":\($0.amount)}" }
        let ranked = try server.json(
            "/rank", "{\"account_ref\":\"\(account)\",\"candidates\":[\(candidates.joined(separator: ","))]}")
        let list = ranked["ranked"] as! [[String: Any]]
        #expect(list.count == requests.count)
        for item in list {
            let terminal = item["terminal_ref"] as! String
            let amount = requests.first { $0.terminal == terminal }!.amount
            let single = try server.json(
                "/predict", "{\"account_ref\":\"\(account)\",\"terminal_ref\":\"\(terminal)\",\"amount\":\(amount)}")
            #expect(item["score"] as! Double == single["score"] as! Double)
        }
        let scoresInOrder = list.map { $0["score"] as! Double }
        #expect(scoresInOrder == scoresInOrder.sorted(by: >))

        // The same rows, point in time from the offline store at the serving clock: equal scores.
        let clock =
            try JSONSerialization.jsonObject(
                with: Data(
                    try HTTPGet.get(port: server.port, path: "/features/account/\(requests[0].account)").body.utf8))
            as! [String: Any]
        var spine = "account_ref,terminal_ref,amount,at\n"
        for r in requests { spine += "\(r.account),\(r.terminal),\(r.amount),\(clock["as_of"] as! String)\n" }
        #expect(requests.count == 12)
        try ServeCommandTests.expectOfflineScores(spine, equal: scores, model: model, dir: dir)
    }
}
