import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

/// `fsml serve` reading a real Redis Cluster: /predict answers from it, answers within its budget
/// (degraded if need be) while a master is dead, and answers the same scores again once a replica
/// took over.
@Suite struct ClusterServeCommandTests {
    @Test func predictsFromAClusterAndThroughAFailover() throws {
        let cluster = try RedisCluster()
        defer { cluster.stop() }
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tracking = "\(dir)/experiments"
        _ = try BinaryRunner.run(["init"], in: dir)
        let gen = try BinaryRunner.run(
            [
                "generate", "events", "--events", "8000", "--users", "200", "--products", "40", "--days", "2", "--seed",
                "21", "--out", "events.jsonl",
            ], in: dir)
        #expect(gen.status == 0, "\(gen.stderr)")
        let stream = try BinaryRunner.run(
            ["stream", "--source", "file:events.jsonl", "--until-end", "--online", cluster.url], in: dir)
        #expect(stream.status == 0, "\(stream.stderr)")
        let train = try BinaryRunner.run(
            [
                "train", "--experiment", "ctr", "--run-name", "m", "--param", "num_iterations=5", "--tracking-dir",
                tracking,
            ],
            in: dir)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(try BinaryRunner.run(["runs", "promote", "m", "--tracking-dir", tracking], in: dir).status == 0)
        // The replicas hold every state before a master dies (replication is asynchronous).
        try cluster.waitForReplication()

        let budgetMillis = 300
        let server = try ServeCommandTests.Server.start(
            [
                "--online", cluster.url, "--budget", "\(budgetMillis)ms", "--config", "\(dir)/fsml.yaml",
                "--tracking-dir", tracking,
            ], dir: dir, name: "cluster")
        defer {
            server.child.signal(SIGTERM)
            server.child.wait()
        }
        var bodies: [String] = []
        for line in try String(contentsOfFile: "\(dir)/events.jsonl", encoding: .utf8).split(separator: "\n").prefix(
            400)
        {
            let e = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            guard let u = e["user_id"] as? String, let p = e["product_id"] as? String,
                let s = e["session_id"] as? String
            else { continue }
            if bodies.count < 20 {
                bodies.append("{\"user_id\":\"\(u)\",\"product_id\":\"\(p)\",\"session_id\":\"\(s)\"}")
            }
        }
        func predict(_ body: String) throws -> (score: Double?, degraded: Bool) {
            let r = try server.json("/predict", body)
            return (r["score"] as? Double, r["degraded"] as? Bool ?? false)
        }
        try ServeCommandTests.waitUntilReady(server)
        let before = try bodies.map { try predict($0) }
        #expect(before.allSatisfy { $0.score != nil && !$0.degraded }, "\(before)")

        let dead = try cluster.crashMaster()
        // While it is dead: every request is answered with a score (a request that hung would never
        // be); the budget's timer, not the dead node, decides when.
        for body in bodies { #expect(try predict(body).score != nil) }
        try cluster.waitForFailover(of: dead)
        try cluster.waitUntil("answers are whole again") {
            (try? bodies.map { try predict($0) }.allSatisfy { !$0.degraded }) == true
        }
        let after = try bodies.map { try predict($0) }
        #expect(after.map(\.score) == before.map(\.score))
    }
}
