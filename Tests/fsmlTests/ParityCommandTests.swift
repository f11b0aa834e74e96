import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OnlineStorage
import Testing

/// `fsml parity` end to end: a real redis-server, the real binary, the offline store it wrote.
@Suite struct ParityCommandTests {
    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    static func state(_ dir: String, _ store: String) throws -> [String: Any] {
        let s = try json(try String(contentsOfFile: "\(dir)/\(store)/_state.json", encoding: .utf8))
        return s["counts"] as! [String: Any]
    }

    /// Every operation and window kind (Tests/FeatureCoreTests/Fixtures/every-operation.yaml): the
    /// online store the stream wrote and the offline replay agree bit for bit.
    @Test func everyOperationHasParity() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FeatureCoreTests/Fixtures/every-operation.yaml").path
        try FileManager.default.copyItem(atPath: fixture, toPath: "\(dir)/fsml.yaml")
        #expect(
            try BinaryRunner.run(
                [
                    "generate", "events", "--events", "12000", "--users", "150", "--products", "40", "--days", "1",
                    "--seed", "5", "--out", "events.jsonl",
                ], in: dir
            ).status == 0)
        let stream = try BinaryRunner.run(
            ["stream", "--source", "file:events.jsonl", "--until-end", "--online", "sqlite:online.db"], in: dir)
        #expect(stream.status == 0, "\(stream.stderr)")
        let parity = try BinaryRunner.run(
            ["parity", "--online", "sqlite:online.db", "--sample", "500", "--format", "json"], in: dir)
        #expect(parity.status == 0, "\(parity.stderr)")
        let result = try Self.json(parity.stdout)
        #expect(result["mismatches"] as? Int == 0 && (result["compared"] as! Int) > 3000)

        // `fsml features get`: a pair entity by its two key values, and the same key joined.
        let events = try String(contentsOfFile: "\(dir)/events.jsonl", encoding: .utf8).split(separator: "\n")
        let last = try JSONSerialization.jsonObject(with: Data(events.last!.utf8)) as! [String: Any]
        let (user, product) = (last["user_id"] as! String, last["product_id"] as! String)
        let get = try BinaryRunner.run(
            ["features", "get", "shopper_product", user, product, "--online", "sqlite:online.db", "--format", "json"],
            in: dir)
        #expect(get.status == 0, "\(get.stderr)")
        let values = try Self.json(get.stdout)
        #expect(values["key"] as? String == "\(user):\(product)")
        let features = values["features"] as! [String: Any]
        #expect(Set(features.keys) == ["sp_views_1h", "sp_since_view", "sp_carted_add_to_cart", "sp_carted_other"])
        let joined = try BinaryRunner.run(
            [
                "features", "get", "shopper_product", "\(user):\(product)", "--online", "sqlite:online.db", "--format",
                "json",
            ],
            in: dir)
        #expect(joined.stdout == get.stdout)
        let wrong = try BinaryRunner.run(
            ["features", "get", "shopper_product", "a", "b", "c", "--online", "sqlite:online.db"], in: dir)
        #expect(
            wrong.status == 1 && wrong.stderr.contains("shopper_product is keyed by user_id, product_id: give 2 values")
        )
    }

    @Test func zeroMismatchesAlsoAfterKillsAndAPlantedFaultIsFound() throws {
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        #expect(
            try BinaryRunner.run(
                [
                    "generate", "events", "--events", "15000", "--users", "200", "--products", "40", "--days", "2",
                    "--seed", "21", "--malformed-fraction", "0.002", "--out", "events.jsonl.gz",
                ], in: dir
            ).status == 0)
        let db0 = redis.url
        let db1 = db0.replacingOccurrences(of: "/0", with: "/1")
        #expect(
            try BinaryRunner.run(
                ["stream", "--source", "file:events.jsonl.gz", "--until-end", "--online", db0], in: dir
            )
            .status == 0)
        let parity = try BinaryRunner.run(
            ["parity", "--online", db0, "--sample", "1000", "--out", "reports", "--format", "json"], in: dir)
        #expect(parity.status == 0, "\(parity.stderr)")
        let clean = try Self.json(parity.stdout)
        #expect(clean["mismatches"] as? Int == 0 && (clean["compared"] as! Int) > 1000)
        // No chart of zero bars: the report says every value is equal.
        let cleanReport = try FileSystem.readText("\(dir)/reports/parity.html")
        #expect(cleanReport.contains("is equal, in all") && !cleanReport.contains("<svg"))

        // Expectations: the raw events repeat ids (replayed duplicates), the admitted ones do not.
        let rawCheck = try BinaryRunner.run(["validate", "--events", "events.jsonl.gz", "--format", "json"], in: dir)
        #expect(rawCheck.status == 1 && rawCheck.stderr.contains("expectations failed"))
        let failedChecks = (try Self.json(rawCheck.stdout)["expectations"] as! [[String: Any]]).filter {
            $0["passed"] as? Bool == false
        }
        #expect(failedChecks.map { "\($0["column"]!) \($0["check"]!)" } == ["event_id unique"])
        let validatePage = try Browser.render("\(dir)/artifacts/reports/validate.html")
        #expect(
            validatePage.consoleMessages.isEmpty
                && validatePage.dom.contains("expectations failed</b>: event_id unique"))
        let storeCheck = try BinaryRunner.run(["validate", "--offline-store"], in: dir)
        #expect(storeCheck.status == 0, "\(storeCheck.stdout)")

        // The same events, killed with SIGKILL at random moments (each after observed progress) and
        // restarted each time.
        let args = [
            "stream", "--source", "file:\(dir)/events.jsonl.gz", "--until-end", "--online", db1, "--offline",
            "\(dir)/data/offline-killed", "--checkpoint", "\(dir)/data/checkpoints-killed", "--config",
            "\(dir)/fsml.yaml", "--rate", "4000", "--checkpoint-interval", "200ms",
        ]
        let outcome = try KilledRuns(
            executable: BinaryRunner.binary, arguments: args, checkpointDirectory: "\(dir)/data/checkpoints-killed"
        ).run(kills: 5, seed: 5)
        #expect(outcome.status == 0)
        #expect(outcome.kills == 5)
        let afterKills = try BinaryRunner.run(
            [
                "parity", "--online", db1, "--offline", "data/offline-killed", "--sample", "1000", "--out",
                "reports-killed",
                "--format", "json",
            ], in: dir)
        #expect(afterKills.status == 0, "\(afterKills.stderr)")
        let killed = try Self.json(afterKills.stdout)
        #expect(killed["mismatches"] as? Int == 0)
        #expect(killed["compared"] as? Int == clean["compared"] as? Int)
        #expect(killed["as_of"] as? String == clean["as_of"] as? String)
        let a = try Self.state(dir, "data/offline")
        let b = try Self.state(dir, "data/offline-killed")
        for key in ["lines", "admitted", "late", "duplicates", "dead_letters"] {
            #expect(a[key] as? Int == b[key] as? Int, "\(key)")
        }

        // A planted fault: one user's stored state replaced by another's, with a later time so it wins.
        let registry = try RegistryLoader.load(path: "\(dir)/fsml.yaml")
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse(db0), project: registry.project, entities: registry.entities)
        let user = registry.entityIndex("user")!
        let users = try store.keys(entity: user).sorted()
        let values = try store.read([(user, users[0]), (user, users[1])])
        guard let donor = values[0].flatMap(StoredValue.blob), let victim = values[1],
            let t = StoredValue.lastTime(victim)
        else {
            Issue.record("no user states to swap")
            return
        }
        try store.write([StateRecord(entity: user, key: users[1], lastTime: t + 1, blob: donor)])
        let faulty = try BinaryRunner.run(
            ["parity", "--online", db0, "--sample", "1000", "--out", "reports-faulty", "--format", "json"], in: dir)
        #expect(faulty.status == 1 && faulty.stderr.contains("mismatch rate"))
        let found = try Self.json(faulty.stdout)
        #expect((found["mismatches"] as! Int) > 0)
        let examples = (found["features"] as! [[String: Any]]).flatMap { $0["examples"] as! [[String: Any]] }
        #expect(!examples.isEmpty && examples.allSatisfy { $0["key"] as? String == users[1] })
        // The report charts only the features that differ.
        let faultyReport = try FileSystem.readText("\(dir)/reports-faulty/parity.html")
        let differing = (found["features"] as! [[String: Any]]).filter { ($0["mismatches"] as! Int) > 0 }
        #expect(faultyReport.components(separatedBy: "class=\"bar\"").count - 1 == differing.count)
        let page = try Browser.render("\(dir)/reports-faulty/parity.html")
        #expect(page.consoleMessages.isEmpty, "\(page.consoleMessages)")
        #expect(Set(page.barLabels) == Set(differing.map { $0["name"] as! String }))
    }
}
