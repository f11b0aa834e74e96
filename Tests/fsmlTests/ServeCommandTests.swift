import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import GBDT
import OnlineStorage
import Serving
import Testing
import Tracking

struct ServeDidNotStart: Error { let log: String }

/// `fsml serve` as users run it: a real redis-server, the real binary, HTTP on a free port.
@Suite(.serialized) struct ServeCommandTests {
    struct Server {
        let child: ChildProcess
        let port: Int
        let log: String

        static func start(_ args: [String], dir: String, name: String) throws -> Server {
            let portFile = "\(dir)/\(name).port"
            let log = "\(dir)/\(name).log"
            let child = try ChildProcess(
                BinaryRunner.binary, ["serve", "--port", "0", "--port-file", portFile] + args, stderr: log)
            let deadline = monotonicNanos() + 60_000_000_000
            while monotonicNanos() < deadline {
                if let text = try? FileSystem.readText(portFile),
                    let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
                {
                    return Server(child: child, port: port, log: log)
                }
                if !child.isRunning { break }
                usleep(20_000)
            }
            child.signal(SIGKILL)
            throw ServeDidNotStart(log: (try? FileSystem.readText(log)) ?? "")
        }

        func post(_ path: String, _ body: String) throws -> HTTPGet.Response {
            try HTTPGet.request(port: port, method: "POST", path: path, body: body)
        }

        func json(_ path: String, _ body: String) throws -> [String: Any] {
            let r = try post(path, body)
            return try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
        }
    }

    static func events(_ path: String) throws -> [[String: Any]] {
        let reader = try LineReader(path: path)
        var out: [[String: Any]] = []
        while let line = try reader.next() {
            if let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] { out.append(o) }
        }
        return out
    }

    /// Builds the spine's rows point in time from the offline store (`fsml build --spine`) and
    /// expects the model's predictions on them to be the served scores.
    static func expectOfflineScores(_ spine: String, equal scores: [Double], model: AnyModel, dir: String) throws {
        try spine.write(toFile: "\(dir)/spine.csv", atomically: true, encoding: .utf8)
        let build = try BinaryRunner.run(
            ["build", "--spine", "spine.csv", "--out", "offline.csv", "--event-time-only"], in: dir)
        #expect(build.status == 0, "\(build.stderr)")
        let rows = try String(contentsOfFile: "\(dir)/offline.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == scores.count + 1)
        let header = rows[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for (i, row) in rows.dropFirst().enumerated() {
            let cells = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let vector = model.featureNames.map { name -> Float in
                let c = header.firstIndex(of: name)!
                return cells[c].isEmpty ? .nan : Float(Double(cells[c])!)
            }
            let offline = model.predict(DenseMatrix(rows: 1, columns: vector.count, values: vector))[0]
            #expect(abs(offline - scores[i]) < 1e-12, "row \(i): served \(scores[i]), offline \(offline)")
        }
    }

    /// Polls /readyz until `holds` accepts its answer (observed progress; the bound only ends a
    /// run whose server never gets there).
    static func waitForReadyz(_ server: Server, _ what: String, _ holds: (HTTPGet.Response) -> Bool) throws {
        let deadline = monotonicNanos() + 300_000_000_000
        while !holds(try HTTPGet.get(port: server.port, path: "/readyz")) {
            guard monotonicNanos() < deadline else { throw ServeDidNotStart(log: "never \(what)") }
            usleep(20_000)
        }
    }

    /// Waits until /readyz answers 200 (the server found its store again).
    static func waitUntilReady(_ server: Server) throws {
        try waitForReadyz(server, "ready again") { $0.status == 200 }
    }

    /// Waits until /readyz names this model version (the follower loaded it).
    static func waitUntil(_ server: Server, serves version: String) throws {
        try waitForReadyz(server, "served \(version)") { $0.body.contains("\"model_version\":\"\(version)\"") }
    }

    /// A counter or gauge from /metrics (-1 when absent).
    static func metric(_ server: Server, _ name: String) throws -> Double {
        let body = try HTTPGet.get(port: server.port, path: "/metrics").body
        let line = body.split(separator: "\n").first { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
    }

    /// Load in rounds until told to stop, then one more round: what was sent and answered.
    final class LoadRounds: @unchecked Sendable {
        let started = DispatchSemaphore(value: 0)
        private let lock = NSCondition()
        private var stopping = false
        private var done = false
        private var results: [LoadGenerator.Result] = []

        func run(_ round: () -> LoadGenerator.Result) {
            started.signal()
            while true {
                let last = lock.withLock { stopping }
                let result = round()
                lock.withLock { results.append(result) }
                if last { break }
            }
            lock.withLock {
                done = true
                lock.broadcast()
            }
        }

        /// Asks for a last round and waits for it.
        func stop() -> [LoadGenerator.Result] {
            lock.withLock {
                stopping = true
                while !done { lock.wait() }
                return results
            }
        }
    }

    /// Stops Redis the way an operator would: SHUTDOWN, then waits until the port is closed.
    static func shutDown(_ redis: RedisServer) {
        redis.shutDown()
        let deadline = monotonicNanos() + 10_000_000_000
        while (try? HTTPGet.get(port: redis.port, path: "/", timeoutSeconds: 1)) != nil && monotonicNanos() < deadline {
            usleep(50_000)
        }
    }

    @Test func servesTheOfflinePredictionAndDegradesAndSwapsModelsWithoutFailures() throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = "\(dir)/fsml.yaml"
        let tracking = "\(dir)/experiments"
        _ = try BinaryRunner.run(["init"], in: dir)
        #expect(
            try BinaryRunner.run(
                [
                    "generate", "events", "--events", "20000", "--users", "300", "--products", "50", "--days", "3",
                    "--seed", "11", "--out", "events.jsonl.gz",
                ], in: dir
            ).status == 0)
        let stream = try BinaryRunner.run(
            ["stream", "--source", "file:events.jsonl.gz", "--until-end", "--online", redis.url], in: dir)
        #expect(stream.status == 0, "\(stream.stderr)")
        for (name, iterations) in [("first", "12"), ("second", "4")] {
            let train = try BinaryRunner.run(
                [
                    "train", "--experiment", "ctr", "--run-name", name, "--param", "num_iterations=\(iterations)",
                    "--tracking-dir", tracking,
                ], in: dir)
            #expect(train.status == 0, "\(train.stderr)")
        }
        // A ranking model of the same features, sessions as queries.
        let ranker = try BinaryRunner.run(
            [
                "train", "--experiment", "ctr", "--run-name", "ranker", "--param", "objective=lambdarank",
                "--param", "num_iterations=8", "--group-column", "session_id", "--tracking-dir", tracking,
                "--format", "json",
            ], in: dir)
        #expect(ranker.status == 0, "\(ranker.stderr)")
        #expect(ranker.stdout.contains("valid_ndcg_at_5"))
        #expect(try BinaryRunner.run(["runs", "promote", "first", "--tracking-dir", tracking], in: dir).status == 0)

        let server = try Server.start(
            ["--online", redis.url, "--config", config, "--tracking-dir", tracking, "--log-sample", "1"], dir: dir,
            name: "redis")
        defer {
            server.child.signal(SIGTERM)
            server.child.wait()
        }
        let store = TrackingStore(root: tracking)
        let first = try store.findRun("first")
        let model = try AnyModel.load(path: first.artifactsDirectory + "/model.json")

        // Requests for ids from the first part of the day, whose sessions are over before the clock.
        let all = try Self.events("\(dir)/events.jsonl.gz")
        var requests: [(user: String, product: String, session: String)] = []
        for e in all.prefix(all.count * 3 / 4) {
            guard let u = e["user_id"] as? String, let p = e["product_id"] as? String,
                let s = e["session_id"] as? String
            else { continue }
            if requests.count < 25 && !requests.contains(where: { $0.user == u }) { requests.append((u, p, s)) }
        }
        var scores: [Double] = []
        for r in requests {
            let answer = try server.json(
                "/predict",
                "{\"user_id\":\"\(r.user)\",\"product_id\":\"\(r.product)\",\"session_id\":\"\(r.session)\"}")
            #expect(answer["model_version"] as? String == "first@\(first.id.prefix(8))")
            #expect((answer["features_freshness_ms"] as? Double ?? -1) >= 0)
            scores.append(answer["score"] as! Double)
        }
        // The same rows, point in time, from the offline store at the serving clock.
        let asOf =
            try JSONSerialization.jsonObject(
                with: Data(try HTTPGet.get(port: server.port, path: "/features/user/\(requests[0].user)").body.utf8))
            as! [String: Any]
        let clock = asOf["as_of"] as! String
        var spine = "user_id,product_id,session_id,event_ts\n"
        for r in requests { spine += "\(r.user),\(r.product),\(r.session),\(clock)\n" }
        try Self.expectOfflineScores(spine, equal: scores, model: model, dir: dir)

        // Reports a browser renders cleanly: a short open-loop load, and the served vectors logged
        // so far against the run's training set.
        let shortLoad = try BinaryRunner.run(
            [
                "bench", "serve", "--url", "http://127.0.0.1:\(server.port)", "--rps", "40", "--duration", "1",
                "--connections", "2", "--ids-from", "events.jsonl.gz", "--out", "reports", "--name", "test",
            ], in: dir)
        #expect(shortLoad.status == 0, "\(shortLoad.stderr)")
        let loadPage = try Browser.render("\(dir)/reports/serve-load-test.html")
        #expect(loadPage.consoleMessages.isEmpty, "\(loadPage.consoleMessages)")
        #expect(loadPage.seriesNames == ["predict"] && loadPage.texts(class: "tick-x").contains("p99"))
        #expect(!loadPage.texts(class: "tick-y").contains { $0.hasPrefix("-") })
        let skew = try BinaryRunner.run(
            ["validate", "skew", "--run", "first", "--tracking-dir", tracking, "--out", "reports", "--format", "json"],
            in: dir)
        #expect(skew.status == 0 || skew.status == 1, "\(skew.stderr)")
        let skewPage = try Browser.render("\(dir)/reports/skew.html")
        #expect(skewPage.consoleMessages.isEmpty && skewPage.dom.contains("class=\"summary\""))
        #expect(Set(skewPage.barLabels) == Set(model.featureNames))

        // Unknown ids: their features are missing and named.
        let unknown = try server.json("/predict", "{\"user_id\":\"nobody\",\"product_id\":\"nothing\"}")
        let missing = unknown["missing"] as! [String]
        // Everything but what coalesce fills in (up_in_cart is 0 for a pair never seen).
        #expect(Set(missing) == Set(model.featureNames).subtracting(["up_in_cart"]))
        // Never silently scored as if they existed: the entities are named too.
        #expect(unknown["missing_entities"] as? [String] == ["user", "product", "session", "user_product"])
        #expect(
            abs(
                (unknown["score"] as! Double)
                    - model.predict(
                        DenseMatrix(
                            rows: 1, columns: model.featureNames.count,
                            values: model.featureNames.map { $0 == "up_in_cart" ? 0 : .nan }))[0]
            ) < 1e-12)

        // Bad input: 4xx with the field, never 5xx.
        let bad: [(String, String, Int, String?)] = [
            ("/predict", "{\"user_id\":true,\"product_id\":\"p\"}", 400, "user_id"),
            ("/predict", "{\"user_id\":\"u\",\"product_id\":\"p\",\"card_id\":\"c\"}", 400, "card_id"),
            ("/predict", "{\"product_id\":\"p\"}", 400, "user_id"),
            ("/predict", "{\"user_id\":\"\",\"product_id\":\"p\"}", 400, "user_id"),
            (
                "/predict", "{\"user_id\":\"\(String(repeating: "u", count: 200))\",\"product_id\":\"p\"}", 400,
                "user_id"
            ),
            ("/predict", "not json", 400, nil),
            ("/predict", "[1,2]", 400, nil),
            ("/rank", "{\"user_id\":\"u\",\"product_ids\":\"p\"}", 400, "product_ids"),
            ("/rank", "{\"user_id\":\"u\",\"product_ids\":[]}", 400, "product_ids"),
            ("/predict", "{\"user_id\":\"\(String(repeating: "x", count: 70_000))\"}", 413, nil),
        ]
        for (path, body, status, field) in bad {
            let r = try server.post(path, body)
            #expect(r.status == status, "\(path) \(body.prefix(40)): \(r.status) \(r.body)")
            let error = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
            #expect(error["error"] is String && error["field"] as? String == field)
        }
        #expect(try HTTPGet.get(port: server.port, path: "/nowhere").status == 404)
        #expect(try HTTPGet.get(port: server.port, path: "/predict").status == 405)

        // /rank orders products by the same scores /predict gives.
        let u = requests[0]
        let products = Array(Set(requests.map(\.product))).sorted()
        let ranked = try server.json(
            "/rank",
            "{\"user_id\":\"\(u.user)\",\"session_id\":\"\(u.session)\",\"product_ids\":[\(products.map { "\"\($0)\"" }.joined(separator: ","))]}"
        )
        let list = ranked["ranked"] as! [[String: Any]]
        #expect(list.count == products.count)
        let top = list[0]["product_id"] as! String
        let single = try server.json(
            "/predict", "{\"user_id\":\"\(u.user)\",\"product_id\":\"\(top)\",\"session_id\":\"\(u.session)\"}")
        #expect(single["score"] as! Double == list[0]["score"] as! Double)
        #expect(zip(list, list.dropFirst()).allSatisfy { ($0["score"] as! Double) >= ($1["score"] as! Double) })

        // A model swap under load: the load runs in rounds from before the promotion until a round
        // after the new version is seen served, so the swap falls inside it however slow the
        // machine; no request fails.
        let second = try store.findRun("second")
        let triples = requests
        let load = LoadRounds()
        let loadThread = Thread {
            load.run {
                LoadGenerator(host: "127.0.0.1", port: server.port, rate: 300, duration: 1, connections: 8) { i in
                    let r = triples[i % triples.count]
                    return (
                        "POST", "/predict", Array("{\"user_id\":\"\(r.user)\",\"product_id\":\"\(r.product)\"}".utf8)
                    )
                }.run()
            }
        }
        loadThread.start()
        load.started.wait()
        #expect(try BinaryRunner.run(["runs", "promote", "second", "--tracking-dir", tracking], in: dir).status == 0)
        try Self.waitUntil(server, serves: "second@\(second.id.prefix(8))")
        let rounds = load.stop()
        #expect(rounds.count >= 2)
        #expect(rounds.allSatisfy { $0.errors.isEmpty && $0.statusCounts == [200: $0.sent] && $0.sent > 0 })
        let after = try server.json("/predict", "{\"user_id\":\"\(u.user)\",\"product_id\":\"\(u.product)\"}")
        #expect(after["model_version"] as? String == "second@\(second.id.prefix(8))")
        let metrics = try HTTPGet.get(port: server.port, path: "/metrics").body
        #expect(metrics.contains("fsml_serve_requests_total{route=\"/predict\",status=\"200\"}"))
        #expect(metrics.contains("model_version=\"second@\(second.id.prefix(8))\"} 1"))
        #expect(metrics.contains("fsml_serve_model_swaps_total 1"))

        // The served-feature log holds sampled vectors.
        let served = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/data/served")
        #expect(!served.isEmpty)

        // Redis hangs (SIGSTOP; connections stay open, nothing answers): every request is answered,
        // degraded, none waits on the hung store past its budget; /readyz says so until it is back.
        redis.pause()
        let skippedBefore = try Self.metric(server, "fsml_serve_store_skipped_total")
        for i in 0..<40 {
            let answer = try server.json("/predict", "{\"user_id\":\"hung-\(i)\",\"product_id\":\"hung-\(i)\"}")
            #expect(answer["degraded"] as? Bool == true)
        }
        // The first request timed out on its budget and opened the breaker: the others did not
        // touch the store (which never answers while stopped).
        #expect(try Self.metric(server, "fsml_serve_store_skipped_total") - skippedBefore >= 39)
        #expect(try HTTPGet.get(port: server.port, path: "/readyz").status == 503)
        redis.resume()
        try Self.waitUntilReady(server)

        // Redis stops: answers come at once, degraded; /readyz says so; Redis back, answers recover.
        Self.shutDown(redis)
        // (Ids nobody asked for: the in-process cache holds nothing for them.)
        let degraded = try server.json("/predict", "{\"user_id\":\"cold-user\",\"product_id\":\"cold-product\"}")
        #expect(degraded["degraded"] as? Bool == true)
        let ready = try HTTPGet.get(port: server.port, path: "/readyz")
        #expect(ready.status == 503, "\(ready.body)")
        try redis.start()
        try Self.waitUntilReady(server)
        let recovered = try server.json("/predict", "{\"user_id\":\"\(u.user)\",\"product_id\":\"\(u.product)\"}")
        #expect(recovered["degraded"] == nil)
        #expect(try HTTPGet.get(port: server.port, path: "/metrics").body.contains("fsml_serve_degraded_total"))

        // The ranking model served: /rank orders the candidates by its scores, which /predict gives too.
        let rankerRun = try store.findRun("ranker")
        #expect(try BinaryRunner.run(["runs", "promote", "ranker", "--tracking-dir", tracking], in: dir).status == 0)
        try Self.waitUntil(server, serves: "ranker@\(rankerRun.id.prefix(8))")
        let byRanker = try server.json(
            "/rank",
            "{\"user_id\":\"\(u.user)\",\"session_id\":\"\(u.session)\",\"product_ids\":[\(products.map { "\"\($0)\"" }.joined(separator: ","))]}"
        )
        #expect(byRanker["model_version"] as? String == "ranker@\(rankerRun.id.prefix(8))")
        let order = byRanker["ranked"] as! [[String: Any]]
        #expect(order.count == products.count)
        #expect(zip(order, order.dropFirst()).allSatisfy { ($0["score"] as! Double) >= ($1["score"] as! Double) })
        let best = try server.json(
            "/predict",
            "{\"user_id\":\"\(u.user)\",\"product_id\":\"\(order[0]["product_id"] as! String)\",\"session_id\":\"\(u.session)\"}"
        )
        #expect(best["score"] as! Double == order[0]["score"] as! Double)
    }

    /// `--stream` answers from the job's memory exactly what the Redis path answers.
    @Test func theInProcessStreamAnswersLikeTheOnlineStore() throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = "\(dir)/fsml.yaml"
        let tracking = "\(dir)/experiments"
        _ = try BinaryRunner.run(["init"], in: dir)
        _ = try BinaryRunner.run(
            [
                "generate", "events", "--events", "8000", "--users", "100", "--products", "30", "--days", "2", "--seed",
                "3", "--out", "events.jsonl.gz",
            ], in: dir)
        #expect(
            try BinaryRunner.run(
                ["stream", "--source", "file:events.jsonl.gz", "--until-end", "--online", redis.url], in: dir
            )
            .status == 0)
        #expect(
            try BinaryRunner.run(
                [
                    "train", "--experiment", "ctr", "--param", "num_iterations=5", "--tracking-dir", tracking,
                    "--valid-days", "0.5",
                ],
                in: dir
            ).status == 0)
        #expect(try BinaryRunner.run(["runs", "promote", "run-", "--tracking-dir", tracking], in: dir).status != 0)
        let run = TrackingStore(root: tracking).runs()[0]
        #expect(try BinaryRunner.run(["runs", "promote", run.id, "--tracking-dir", tracking], in: dir).status == 0)

        let viaRedis = try Server.start(
            ["--online", redis.url, "--config", config, "--tracking-dir", tracking, "--cache-ttl", "0"], dir: dir,
            name: "redis")
        defer {
            viaRedis.child.signal(SIGTERM)
            viaRedis.child.wait()
        }
        let inProcess = try Server.start(
            [
                "--stream", "file:\(dir)/events.jsonl.gz", "--until-end", "--no-online", "--no-offline", "--name",
                "serve-stream", "--config", config, "--tracking-dir", tracking,
            ], dir: dir, name: "memory")
        // The in-process job folds the whole file; wait until its clock matches the stored one.
        let probe = "/features/user/nobody"
        let redisClock = try HTTPGet.get(port: viaRedis.port, path: probe).body
        let deadline = monotonicNanos() + 60_000_000_000
        while try HTTPGet.get(port: inProcess.port, path: probe).body != redisClock && monotonicNanos() < deadline {
            usleep(100_000)
        }
        let events = try Self.events("\(dir)/events.jsonl.gz")
        var compared = 0
        for e in events.prefix(400) where compared < 40 {
            let body =
                "{\"user_id\":\"\(e["user_id"]!)\",\"product_id\":\"\(e["product_id"]!)\",\"session_id\":\"\(e["session_id"]!)\"}"
            let a = try viaRedis.post("/predict", body).body
            let b = try inProcess.post("/predict", body).body
            #expect(a == b)
            compared += 1
        }
        #expect(compared == 40)

        // SIGTERM drains: the server stops accepting, a request in flight is still answered (its
        // connection then closed), and the process ends cleanly. The request's head and part of its
        // body go out in one write behind a /healthz on the same connection: once /healthz is
        // answered the server has read them, so the request is in flight when the signal comes.
        let body =
            "{\"user_id\":\"\(events[0]["user_id"]!)\",\"product_id\":\"\(events[0]["product_id"]!)\",\"session_id\":\"\(events[0]["session_id"]!)\"}"
        let fd = try HTTPGet.connected(port: inProcess.port, timeoutSeconds: 60)
        defer { close(fd) }
        HTTPGet.send(
            fd,
            "GET /healthz HTTP/1.1\r\nHost: fsml\r\n\r\nPOST /predict HTTP/1.1\r\nHost: fsml\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body.prefix(10))
        #expect(HTTPGet.read(fd, until: "\r\n\r\n").hasPrefix("HTTP/1.1 200"))
        inProcess.child.signal(SIGTERM)
        let refusedBy = monotonicNanos() + 60_000_000_000
        while (try? HTTPGet.connected(port: inProcess.port)).map({ close($0) }) != nil && monotonicNanos() < refusedBy {
            usleep(10_000)
        }
        HTTPGet.send(fd, String(body.dropFirst(10)))
        let answer = HTTPGet.read(fd)
        let last = try #require(answer.range(of: "HTTP/1.1 ", options: .backwards))
        #expect(answer[last.lowerBound...].hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(answer[last.lowerBound...].lowercased().contains("connection: close"), "\(answer)")
        #expect(answer.contains("\"score\""), "\(answer)")
        #expect(inProcess.child.wait() == 0)
        let stopped = try String(contentsOfFile: inProcess.log, encoding: .utf8)
        #expect(stopped.contains("fsml serve: stopped"), "\(stopped)")

        // A job that follows a growing file and writes Redis, which dies: the job fails (two attempts
        // here), /readyz and the metrics say so, the job is made again and again until Redis is back,
        // then it resumes from its checkpoint and the server is ready.
        let reader = try LineReader(path: "\(dir)/events.jsonl.gz")
        var lines: [String] = []
        while let line = try reader.next() { lines.append(String(decoding: line, as: UTF8.self)) }
        try (lines[..<4000].joined(separator: "\n") + "\n").write(
            toFile: "\(dir)/live.jsonl", atomically: true, encoding: .utf8)
        let following = try Server.start(
            [
                "--stream", "file:\(dir)/live.jsonl", "--online", redis.url, "--no-offline", "--name", "serve-follow",
                "--store-retries", "2", "--store-retry-max", "100ms", "--checkpoint-interval", "100ms", "--config",
                config, "--tracking-dir", tracking,
            ], dir: dir, name: "following")
        defer {
            following.child.signal(SIGTERM)
            following.child.wait()
        }
        try Self.waitUntilReady(following)
        redis.crash()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/live.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data((lines[4000...].joined(separator: "\n") + "\n").utf8))
        try handle.close()
        func metric(_ name: String) throws -> Double { try Self.metric(following, name) }
        let failedBy = monotonicNanos() + 60_000_000_000
        while try metric("fsml_stream_restarts_total") < 1 && monotonicNanos() < failedBy { usleep(20_000) }
        let notReady = try HTTPGet.get(port: following.port, path: "/readyz")
        #expect(notReady.status == 503 && notReady.body.contains("the stream job failed"), "\(notReady.body)")
        #expect(try metric("fsml_stream_up") == 0)
        try redis.start()
        try Self.waitUntilReady(following)
        #expect(try metric("fsml_stream_up") == 1)
        let log = try String(contentsOfFile: following.log, encoding: .utf8)
        #expect(log.contains("stream job failed") && log.contains("stream job resuming after"), "\(log)")
    }
}
