import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OnlineStorage
import Testing

/// `fsml materialize` as a process: a stream's offline store rebuilt into a Redis Cluster holds what
/// the stream wrote to its Redis, key for key; as of a time, fewer events.
@Suite struct MaterializeCommandTests {
    let registry = try! RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml")

    @Test func rebuildsIntoAClusterWhatTheStreamWrote() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try BinaryRunner.run(["init"], in: dir).status == 0)
        let gen = try BinaryRunner.run(
            [
                "generate", "events", "--events", "4000", "--users", "150", "--products", "50", "--days", "2", "--seed",
                "5", "--out", "events.jsonl",
            ], in: dir)
        #expect(gen.status == 0, "\(gen.stderr)")
        let redis = try RedisServer()
        let stream = try BinaryRunner.run([
            "stream", "--source", "file:\(dir)/events.jsonl", "--until-end", "--config", "\(dir)/fsml.yaml",
            "--online", redis.url, "--offline", "\(dir)/offline", "--checkpoint", "\(dir)/checkpoints",
        ])
        #expect(stream.status == 0, "\(stream.stderr)")
        let streamed = try OnlineStores.open(
            try OnlineStoreURL.parse(redis.url), project: registry.project, entities: registry.entities)
        let expected = try StoreContents.all(streamed, entityCount: registry.entities.count)
        #expect(expected.count > 100)

        let cluster = try RedisCluster.shared()
        let target = try OnlineStores.open(
            try OnlineStoreURL.parse(cluster.url), project: registry.project, entities: registry.entities)
        try (target as? RedisClusterOnlineStore)?.clear()
        let run = try BinaryRunner.run([
            "materialize", "--online", cluster.url, "--offline", "\(dir)/offline", "--config", "\(dir)/fsml.yaml",
            "--format", "json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
        let states = report["states"] as? [String: Int] ?? [:]
        #expect(states.values.reduce(0, +) == expected.count)
        #expect(StoreContents.differences(expected, try StoreContents.all(target, entityCount: 4)) == [])

        // As of a day before the stream's clock: fewer events, into an empty store.
        let memory = "sqlite:\(dir)/as-of.db"
        let all = report["events"] as? Int ?? 0
        guard case .success(let clock) = Timestamp.parse(report["clock"] as? String ?? "") else {
            Issue.record("no clock in \(run.stdout)")
            return
        }
        let early = try BinaryRunner.run([
            "materialize", "--online", memory, "--offline", "\(dir)/offline", "--config", "\(dir)/fsml.yaml",
            "--as-of", Timestamp.format(clock - Timestamp.microsPerDay), "--format", "json",
        ])
        #expect(early.status == 0, "\(early.stderr)")
        let earlyReport = try JSONSerialization.jsonObject(with: Data(early.stdout.utf8)) as? [String: Any] ?? [:]
        let earlyEvents = earlyReport["events"] as? Int ?? 0
        #expect(earlyEvents > 0 && earlyEvents < all)
        let bad = try BinaryRunner.run([
            "materialize", "--online", memory, "--config", "\(dir)/fsml.yaml", "--as-of", "yesterday",
        ])
        #expect(bad.status != 0 && bad.stderr.contains("'yesterday' is not an RFC 3339 time"))
    }
}
