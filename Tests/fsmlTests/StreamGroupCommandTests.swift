import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import OnlineStorage
import Streaming
import Testing

/// `fsml stream --shards`: consumer-group members as processes of the fsml binary, against one
/// mock cluster and one redis-server. The mock cluster lives in this test process: its brokers
/// listen on loopback ports, which the members reach like any broker for as long as this process
/// (the cluster's creator) lives.
///
/// Nothing waits on a timer: each step waits for what it needs to see (a member's assignment in
/// its log, offsets and owners in the shards), with a generous deadline only to fail a stuck run.
@Suite(.serialized) struct StreamGroupCommandTests {
    let registry = try! RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml")
    static let partitions = 8

    /// One member grows to three, one is killed with SIGKILL, one joins again, while events keep
    /// coming; the group's online states (every key), offline stores and counts then equal one
    /// process's run over the same topic.
    @Test func membersJoinDieAndRejoinAndTheGroupEqualsOneProcess() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try BinaryRunner.run(["init"], in: dir).status == 0)
        let gen = try BinaryRunner.run(
            [
                "generate", "events", "--events", "24000", "--users", "300", "--products", "60", "--days", "2",
                "--seed", "18", "--malformed-fraction", "0.01", "--out", "events.jsonl",
            ], in: dir)
        #expect(gen.status == 0, "\(gen.stderr)")
        let lines = try FileSystem.readBytes("\(dir)/events.jsonl").split(separator: 10).map(Array.init)
        let cluster = try KafkaMockCluster(topics: [("clicks", Self.partitions)])
        let redis = try RedisServer()
        let shards = ShardLayout(directory: "\(dir)/shards", topic: "clicks")
        func progress() throws -> GroupProgress { try GroupProgress.read(shards) }

        // Four slices of the events, produced one at a time as the group changes.
        let slices = stride(from: 0, to: lines.count, by: lines.count / 4 + 1).map {
            Array(lines[$0..<min(lines.count, $0 + lines.count / 4 + 1)])
        }
        var produced = 0
        func produce(_ slice: [[UInt8]]) throws {
            try Self.produce(slice, to: cluster.bootstrap)
            produced += slice.count
        }

        var members: [String: ChildProcess] = [:]
        func start(_ name: String) throws {
            members[name] = try ChildProcess(
                BinaryRunner.binary,
                [
                    "stream", "--source", "kafka://\(cluster.bootstrap)/clicks?group=users", "--shards",
                    "\(dir)/shards", "--entities", "user,session", "--name", name, "--offline", "\(dir)/offline",
                    "--online", "redis://127.0.0.1:\(redis.port)/0", "--checkpoint-interval", "100ms",
                    "--format", "json", "--config", "\(dir)/fsml.yaml",
                ], stdout: "\(dir)/\(name).out", stderr: "\(dir)/\(name).err")
        }
        /// Waits until `names` hold every partition between them, each some, none twice.
        func waitForAssignment(_ names: [String]) throws {
            try waitFor {
                let held = names.map { holding("\(dir)/\($0).err") }
                let all = held.reduce(Set<Int>()) { $0.union($1) }
                return held.allSatisfy { !$0.isEmpty } && held.map(\.count).reduce(0, +) == all.count
                    && all == Set(0..<Self.partitions)
            }
        }

        // One member takes the first slice.
        try start("a")
        try produce(slices[0])
        try waitFor { try progress().offsets == Int64(produced) }
        #expect(try progress().owners == ["a"])

        // Two more join; the second slice is spread over three.
        try start("b")
        try start("c")
        try waitForAssignment(["a", "b", "c"])
        try produce(slices[1])
        try waitFor { try progress().offsets == Int64(produced) && progress().owners == ["a", "b", "c"] }

        // b is killed while the third slice flows: its partitions go to a and c after its session
        // times out, restored from the shards b wrote last; what b did after them is done again.
        let half = slices[2].count / 2
        try produce(Array(slices[2][..<half]))
        members["b"]!.signal(SIGKILL)
        #expect(members["b"]!.wait() == 128 + SIGKILL)
        try produce(Array(slices[2][half...]))
        try waitForAssignment(["a", "c"])
        try waitFor { try progress().offsets == Int64(produced) && !progress().owners.contains("b") }

        // d joins; the last slice is spread over a, c and d.
        try start("d")
        try waitForAssignment(["a", "c", "d"])
        try produce(slices[3])
        #expect(produced == lines.count)
        try waitFor { try progress().offsets == Int64(produced) && progress().owners == ["a", "c", "d"] }
        for name in ["a", "c", "d"] {
            members[name]!.signal(SIGTERM)
            #expect(members[name]!.wait() == 0, "\(name): \(text("\(dir)/\(name).err"))")
        }
        // Incremental rebalancing: a gave partitions away and took b's over, but never stopped
        // holding some (its last line is its leaving).
        let aLog = text("\(dir)/a.err").split(separator: "\n").filter { $0.contains("; holding ") }
        #expect(aLog.dropLast().allSatisfy { !$0.hasSuffix("holding none") } && aLog.count >= 4, "\(aLog)")

        // One process over the same topic, in a group of its own.
        let single = try BinaryRunner.run([
            "stream", "--source", "kafka://\(cluster.bootstrap)/clicks?group=single", "--shards",
            "\(dir)/single/shards",
            "--entities", "user,session", "--name", "single", "--offline", "\(dir)/single/offline", "--online",
            "redis://127.0.0.1:\(redis.port)/1", "--until-end", "--format", "json", "--config", "\(dir)/fsml.yaml",
        ])
        #expect(single.status == 0, "\(single.stderr)")

        // Counts and offsets, partition by partition.
        let group = try progress()
        let one = try GroupProgress.read(ShardLayout(directory: "\(dir)/single/shards", topic: "clicks"))
        #expect(group.offsets == Int64(lines.count) && one.offsets == Int64(lines.count))
        #expect(group.counts.lines == lines.count && group.counts.admitted > lines.count / 2)
        #expect(group.counts.late > 0 && group.counts.duplicates > 0 && group.counts.deadLetters > 0)
        for p in 0..<Int32(Self.partitions) {
            #expect(group.partitions[p]?.counts == one.partitions[p]?.counts, "partition \(p)")
            #expect(group.partitions[p]?.states == one.partitions[p]?.states, "partition \(p)")
        }
        // Every key of the online store.
        let groupOnline = try contents(redis: redis.port, db: 0)
        let oneOnline = try contents(redis: redis.port, db: 1)
        for e in [0, 2] {
            let got = groupOnline[e] ?? [:]
            let want = oneOnline[e] ?? [:]
            let differing = want.keys.filter { got[$0] != want[$0] }.sorted()
            #expect(
                got.count == want.count && differing.isEmpty && want.count > 100,
                "entity \(e): \(got.count) keys vs \(want.count), \(differing.count) differ, e.g. \(differing.prefix(3))"
            )
        }
        #expect(groupOnline[1]?.isEmpty ?? true)
        // Every partition's offline store, row for row (sequence, known-at, event).
        for p in 0..<Int32(Self.partitions) {
            let rows = try offlineRows(ShardLayout.partitionDirectory(base: "\(dir)/offline", partition: p))
            let expected = try offlineRows(ShardLayout.partitionDirectory(base: "\(dir)/single/offline", partition: p))
            #expect(rows == expected && !rows.isEmpty, "partition \(p): \(rows.count) rows vs \(expected.count)")
        }
        // A group's offline data builds as one store: the partitions' events merged by known-at time.
        for root in ["offline", "single/offline"] {
            let built = try BinaryRunner.run([
                "build", "--offline", "\(dir)/\(root)", "--out", "\(dir)/\(root).csv", "--config", "\(dir)/fsml.yaml",
            ])
            #expect(built.status == 0, "\(built.stderr)")
        }
        let dataset = text("\(dir)/offline.csv")
        #expect(dataset.split(separator: "\n").count > 100 && dataset == text("\(dir)/single/offline.csv"))
    }

    @Test func shardsNeedAConsumerGroupsSource() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try BinaryRunner.run(["init"], in: dir).status == 0)
        for source in ["events.jsonl", "kafka://127.0.0.1:9/clicks"] {
            let run = try BinaryRunner.run(["stream", "--source", source, "--shards", "shards"], in: dir)
            #expect(run.status != 0 && run.stderr.contains("--shards needs a consumer group's source"), "\(run.stderr)")
        }
    }

    // MARK: - Helpers

    /// Sends lines keyed by their user, as `fsml produce` does; lines that are not JSON go unkeyed.
    static func produce(_ lines: [[UInt8]], to bootstrap: String) throws {
        let producer = try KafkaProducer(brokers: bootstrap, topic: "clicks")
        for line in lines {
            let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
            try line.withUnsafeBytes { try producer.send($0, key: object?["user_id"] as? String) }
        }
        #expect(try producer.flush() == 0)
    }

    func contents(redis port: Int, db: Int) throws -> [Int: [String: [UInt8]]] {
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse("redis://127.0.0.1:\(port)/\(db)"), project: registry.project,
            entities: registry.entities)
        var out: [Int: [String: [UInt8]]] = [:]
        for e in registry.entities.indices {
            let keys = try store.keys(entity: e).sorted()
            let values = try store.read(keys.map { (entity: e, key: $0) })
            out[e] = Dictionary(uniqueKeysWithValues: zip(keys, values.map { $0 ?? [] }))
        }
        return out
    }

    func offlineRows(_ root: String) throws -> [StoredEvent] {
        let scanner = try OfflineStoreScanner(store: OfflineStore(root: root), schema: registry.schema)
        var out: [StoredEvent] = []
        while let e = try scanner.next() { out.append(e) }
        return out
    }

    func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// The partitions a member's log last said it holds.
    func holding(_ path: String) -> Set<Int> {
        guard let line = text(path).split(separator: "\n").last(where: { $0.contains("; holding ") }) else { return [] }
        let list = line[line.range(of: "; holding ")!.upperBound...]
        return Set(list.split(separator: ",").compactMap { Int($0) })
    }

    func waitFor(seconds: Double = 180, _ condition: () throws -> Bool) throws {
        let deadline = monotonicNanos() + UInt64(seconds * 1e9)
        while monotonicNanos() < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        Issue.record("timed out after \(seconds) s")
        throw TimedOut()
    }

    struct TimedOut: Error {}
}
