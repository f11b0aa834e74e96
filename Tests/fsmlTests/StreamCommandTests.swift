import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import OnlineStorage
import PointInTime
import Testing

/// `fsml stream`, `fsml produce` and `fsml kafka mock` as processes, against a real redis-server.
@Suite(.serialized) struct StreamCommandTests {
    let registry = try! RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml")

    /// A project with generated events in `events.jsonl`.
    func project(events: Int, seed: Int, extra: [String] = []) throws -> String {
        let dir = try BinaryRunner.temporaryDirectory()
        #expect(try BinaryRunner.run(["init"], in: dir).status == 0)
        let gen = try BinaryRunner.run(
            [
                "generate", "events", "--events", String(events), "--users", "200", "--products", "60", "--days", "2",
                "--seed", String(seed), "--out", "events.jsonl",
            ] + extra, in: dir)
        #expect(gen.status == 0, "\(gen.stderr)")
        return dir
    }

    func store(_ url: String) throws -> any OnlineStore {
        try OnlineStores.open(try OnlineStoreURL.parse(url), project: registry.project, entities: registry.entities)
    }

    /// Every key and value of every entity kind.
    func contents(_ store: any OnlineStore, kinds: [Int]? = nil) throws -> [Int: [String: [UInt8]]] {
        var out: [Int: [String: [UInt8]]] = [:]
        for e in kinds ?? Array(registry.entities.indices) {
            let keys = try store.keys(entity: e).sorted()
            let values = try store.read(keys.map { (entity: e, key: $0) })
            out[e] = Dictionary(uniqueKeysWithValues: zip(keys, values.map { $0 ?? [] }))
        }
        return out
    }

    func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    /// The "line" numbers of a reject log's records.
    func rejectedLines(_ directory: String) throws -> [Int] {
        guard FileManager.default.fileExists(atPath: directory) else { return [] }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.count == 1)
        return try files.flatMap { file in
            try String(contentsOfFile: "\(directory)/\(file)", encoding: .utf8).split(separator: "\n").map {
                try json(String($0))["line"] as? Int ?? -1
            }
        }
    }

    func offlineRows(_ root: String) throws -> [StoredEvent] {
        let scanner = try OfflineStoreScanner(store: OfflineStore(root: root), schema: registry.schema)
        var out: [StoredEvent] = []
        while let e = try scanner.next() { out.append(e) }
        return out
    }

    @Test func killedAtRandomMomentsItEndsAsOneUninterruptedRun() throws {
        let dir = try project(events: 40_000, seed: 3, extra: ["--malformed-fraction", "0.01"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let redis = try RedisServer()
        func arguments(_ name: String, db: Int) -> [String] {
            [
                "stream", "--source", "file:\(dir)/events.jsonl", "--until-end", "--config", "\(dir)/fsml.yaml",
                "--online", "redis://127.0.0.1:\(redis.port)/\(db)", "--offline", "\(dir)/\(name)/offline",
                "--checkpoint", "\(dir)/\(name)/checkpoints", "--checkpoint-interval", "100ms", "--format", "json",
            ]
        }
        let once = try BinaryRunner.run(arguments("once", db: 0))
        #expect(once.status == 0, "\(once.stderr)")
        let onceTotals = try json(once.stdout)["totals"] as? [String: Int] ?? [:]

        // The same replay, paced so that it takes a few seconds, killed with SIGKILL at random moments
        // (each after observed progress), then left to finish.
        let outcome = try KilledRuns(
            executable: BinaryRunner.binary, arguments: arguments("killed", db: 1) + ["--rate", "10000"],
            checkpointDirectory: "\(dir)/killed/checkpoints", outputPrefix: "\(dir)/attempt"
        ).run(kills: 8, seed: 99)
        let errors = (try? String(contentsOfFile: "\(dir)/attempt-\(outcome.lastAttempt).err", encoding: .utf8)) ?? ""
        #expect(outcome.status == 0, "\(errors)")
        #expect(outcome.kills >= 5)
        let last = try json(try String(contentsOfFile: "\(dir)/attempt-\(outcome.lastAttempt).out", encoding: .utf8))
        let killedTotals = try #require(last["totals"] as? [String: Int])
        #expect(killedTotals == onceTotals)
        #expect(
            (onceTotals["late"] ?? 0) > 0 && (onceTotals["duplicates"] ?? 0) > 0
                && (onceTotals["dead_letters"] ?? 0) > 0)
        // Online states, offline events and the reject logs are those of the uninterrupted run.
        let a = try contents(try store("redis://127.0.0.1:\(redis.port)/0"))
        let b = try contents(try store("redis://127.0.0.1:\(redis.port)/1"))
        #expect(a[0]!.count > 100 && a[1]!.count > 10 && a[2]!.count > 100)
        #expect(a == b)
        #expect(try offlineRows("\(dir)/once/offline") == offlineRows("\(dir)/killed/offline"))
        let deadOnce = try rejectedLines("\(dir)/once/offline/dead_letters")
        #expect(deadOnce.count == onceTotals["dead_letters"])
        #expect(try rejectedLines("\(dir)/killed/offline/dead_letters") == deadOnce)
        #expect(try rejectedLines("\(dir)/killed/offline/late") == rejectedLines("\(dir)/once/offline/late"))
    }

    /// A line dated in the year 9999 amid 20,000: a dead letter with its reason in the stream and
    /// in a batch ingest alike, which otherwise admit what the file without it gives.
    @Test func aFutureEventIsADeadLetterInTheStreamAndInBatchAlike() throws {
        let dir = try project(events: 20_000, seed: 11)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try String(contentsOfFile: "\(dir)/events.jsonl", encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        var future = try json(lines[7_000])
        future["event_ts"] = "9999-12-31T23:59:59Z"
        future["event_id"] = "from-the-future"
        lines.insert(
            String(decoding: try JSONSerialization.data(withJSONObject: future), as: UTF8.self), at: 7_000)
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: "\(dir)/poisoned.jsonl", atomically: true, encoding: .utf8)
        func stream(_ file: String, _ name: String) throws -> [String: Int] {
            let run = try BinaryRunner.run(
                [
                    "stream", "--source", "file:\(dir)/\(file)", "--until-end", "--no-online", "--offline",
                    "\(dir)/\(name)", "--checkpoint", "\(dir)/\(name)-checkpoints", "--format", "json",
                ], in: dir)
            #expect(run.status == 0, "\(run.stderr)")
            return try json(run.stdout)["totals"] as? [String: Int] ?? [:]
        }
        let clean = try stream("events.jsonl", "clean")
        let poisoned = try stream("poisoned.jsonl", "poisoned")
        #expect(poisoned["admitted"] == clean["admitted"] && poisoned["late"] == clean["late"])
        #expect(poisoned["dead_letters"] == clean["dead_letters"]! + 1 && poisoned["waiting"] == 0)
        let ingest = try BinaryRunner.run(
            ["ingest", "--source", "\(dir)/poisoned.jsonl", "--offline", "\(dir)/batch", "--format", "json"], in: dir)
        #expect(ingest.status == 0, "\(ingest.stderr)")
        #expect(try json(ingest.stdout)["dead_letters"] as? Int == poisoned["dead_letters"])
        let streamed = try offlineRows("\(dir)/poisoned")
        #expect(streamed == (try offlineRows("\(dir)/batch")))
        #expect(streamed == (try offlineRows("\(dir)/clean")))
        for store in ["poisoned", "batch"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(store)/dead_letters")
            let records = try files.map {
                try String(contentsOfFile: "\(dir)/\(store)/dead_letters/\($0)", encoding: .utf8)
            }
            .joined()
            let future = records.split(separator: "\n").filter { $0.contains("from-the-future") }
            #expect(future.count == 1)
            #expect(future.first?.contains("event time is 7,975 years ahead of the stream clock") == true)
            #expect(future.first?.contains("\"line\":7001") == true)
        }
    }

    /// Redis is killed in the middle of the job's writes and comes back empty: the job neither dies
    /// (no SIGPIPE) nor gives up; it retries with backoff, finds its marker gone, and writes every
    /// state again, so that Redis ends as the batch engine's states.
    @Test func theStreamOutlivesADeadRedisAndRefillsAnEmptyOne() throws {
        let dir = try project(events: 30_000, seed: 12)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let redis = try RedisServer()
        try redis.start()
        defer { redis.stop() }
        let child = try ChildProcess(
            BinaryRunner.binary,
            [
                "stream", "--source", "file:\(dir)/events.jsonl", "--until-end", "--config", "\(dir)/fsml.yaml",
                "--online", redis.url, "--offline", "\(dir)/offline", "--checkpoint", "\(dir)/checkpoints",
                "--checkpoint-interval", "2s", "--flush-interval", "500ms", "--rate", "6000", "--store-retry-max",
                "200ms",
                "--format", "json",
            ], stdout: "\(dir)/out", stderr: "\(dir)/err")
        try waitFor { redis.keyCount() > 100 }
        redis.crash()
        let stderr = { (try? String(contentsOfFile: "\(dir)/err", encoding: .utf8)) ?? "" }
        try waitFor { stderr().contains("retrying in") }
        #expect(child.isRunning)
        try redis.start()
        #expect(child.wait() == 0, "\(stderr())")
        #expect(stderr().contains("lost this job's states"))
        // Every state Redis holds is the batch engine's over the same admitted events.
        let states = StateTable(engine: FeatureEngine(registry: registry))
        var last = Micros.min
        for stored in try offlineRows("\(dir)/offline") {
            states.fold(stored.event)
            last = max(last, stored.event.time)
        }
        let watermark = last - registry.allowedLateness
        let store = try store(redis.url)
        var compared = 0
        for e in registry.entities.indices {
            for (key, state) in states.tables[e] where watermark - state.lastTime <= registry.entities[e].ttl {
                let stored = try store.read([(e, key)])[0]
                #expect(stored.flatMap(StoredValue.blob) == StateCodec.encode(state, engine: states.engine, entity: e))
                compared += 1
            }
        }
        #expect(compared > 300)
    }

    @Test func followsAGrowingFileServesMetricsAndStopsCleanlyOnSIGTERM() throws {
        let dir = try project(events: 6_000, seed: 4)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let all = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/events.jsonl"))
        let lines = all.split(separator: 10)
        let half = lines.count / 2
        FileManager.default.createFile(
            atPath: "\(dir)/live.jsonl", contents: Data(lines[..<half].joined(separator: [10]) + [10]))
        let child = try ChildProcess(
            BinaryRunner.binary,
            [
                "stream", "--source", "file:\(dir)/live.jsonl", "--config", "\(dir)/fsml.yaml", "--online",
                "sqlite:\(dir)/online.db", "--metrics-port", "0", "--format", "json",
            ], stdout: "\(dir)/out", stderr: "\(dir)/err")
        let port = try waitForMetricsPort("\(dir)/err")
        // A client that connects and sends nothing does not hold the listener up.
        let idle = try HTTPGet.connected(port: port)
        defer { close(idle) }
        let first = try HTTPGet.get(port: port, path: "/metrics").body
        for name in [
            "fsml_stream_dead_letters_total{job=\"stream\"} ", "fsml_stream_store_errors_total{job=\"stream\"} 0",
            "process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ", "process_max_fds ",
            "process_start_time_seconds ",
        ] {
            #expect(first.contains(name), "\(name)")
        }
        try waitFor { try eventsTotal(port) == Double(half) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/live.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data(lines[half...].joined(separator: [10]) + [10]))
        try handle.close()
        try waitFor { try eventsTotal(port) == Double(lines.count) }
        let metrics = try HTTPGet.get(port: port, path: "/metrics")
        #expect(metrics.head.contains("text/plain; version=0.0.4"))
        #expect(metrics.body.contains("fsml_stream_freshness_seconds_bucket{job=\"stream\",le=\"+Inf\"}"))
        #expect(metrics.body.contains("# TYPE fsml_stream_watermark_lag_seconds gauge"))
        child.signal(SIGTERM)
        #expect(child.wait() == 0)
        let report = try json(try String(contentsOfFile: "\(dir)/out", encoding: .utf8))
        #expect(report["lines"] as? Int == lines.count)
        // The states are the batch engine's for the same arrival order.
        let states = StateTable(engine: FeatureEngine(registry: registry))
        var intake = Intake(schema: registry.schema, lateness: registry.allowedLateness)
        var sink = CollectingSink()
        for line in lines {
            try Array(line).withUnsafeBytes { try intake.take($0, origin: Origin(source: "-", line: 0), into: &sink) }
        }
        for stored in sink.admitted { states.fold(stored.event) }
        let sqlite = try store("sqlite:\(dir)/online.db")
        let watermark = intake.admission.watermark
        for e in registry.entities.indices {
            for (key, state) in states.tables[e] where watermark - state.lastTime <= registry.entities[e].ttl {
                let stored = try sqlite.read([(e, key)])[0]
                #expect(stored.flatMap(StoredValue.blob) == StateCodec.encode(state, engine: states.engine, entity: e))
            }
        }
        // Running the command again resumes from its checkpoint and finds nothing new.
        let again = try BinaryRunner.run([
            "stream", "--source", "file:\(dir)/live.jsonl", "--config", "\(dir)/fsml.yaml", "--online",
            "sqlite:\(dir)/online.db", "--until-end", "--format", "json",
        ])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("resuming after \(Progress.count(lines.count)) lines"))
        #expect(try json(again.stdout)["lines"] as? Int == 0)
    }

    @Test func twoStreamProcessesOfOneConsumerGroupShareTheTopic() throws {
        let dir = try project(events: 8_000, seed: 5)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mock = try ChildProcess(
            BinaryRunner.binary, ["kafka", "mock", "--topic", "clicks:4"], stdout: "\(dir)/mock.out",
            stderr: "\(dir)/mock.err")
        var bootstrap = ""
        try waitFor {
            let text = (try? String(contentsOfFile: "\(dir)/mock.out", encoding: .utf8)) ?? ""
            bootstrap =
                text.split(separator: "\n").first { $0.hasPrefix("BOOTSTRAP=") }.map { String($0.dropFirst(10)) } ?? ""
            return !bootstrap.isEmpty
        }
        let redis = try RedisServer()
        var members: [ChildProcess] = []
        for name in ["member-a", "member-b"] {
            members.append(
                try ChildProcess(
                    BinaryRunner.binary,
                    [
                        "stream", "--source", "kafka://\(bootstrap)/clicks?group=users", "--entities", "user,session",
                        "--name", name, "--offline", "\(dir)/\(name)/offline", "--online",
                        "redis://127.0.0.1:\(redis.port)/0", "--checkpoint",
                        "\(dir)/checkpoints", "--metrics-port", "0", "--format", "json", "--config", "\(dir)/fsml.yaml",
                    ], stdout: "\(dir)/\(name).out", stderr: "\(dir)/\(name).err"))
        }
        // Both members hold their share of the four partitions before anything is produced.
        try waitFor(seconds: 60) {
            let a = lastAssignment("\(dir)/member-a.err")
            let b = lastAssignment("\(dir)/member-b.err")
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b) == [0, 1, 2, 3]
        }
        let produce = try BinaryRunner.run([
            "produce", "--from", "file:\(dir)/events.jsonl", "--to", "kafka://\(bootstrap)/clicks", "--config",
            "\(dir)/fsml.yaml",
        ])
        #expect(produce.status == 0, "\(produce.stderr)")
        let total = try FileSystem.readBytes("\(dir)/events.jsonl").filter { $0 == 10 }.count
        let ports = try ["member-a", "member-b"].map { try waitForMetricsPort("\(dir)/\($0).err") }
        try waitFor(seconds: 60) { try ports.map(eventsTotal).reduce(0, +) == Double(total) }
        for m in members { m.signal(SIGTERM) }
        for (m, name) in zip(members, ["member-a", "member-b"]) {
            #expect(m.wait() == 0, "\((try? String(contentsOfFile: "\(dir)/\(name).err", encoding: .utf8)) ?? "")")
        }
        mock.signal(SIGTERM)
        mock.wait()
        let counts = try ["member-a", "member-b"].map {
            try json(try String(contentsOfFile: "\(dir)/\($0).out", encoding: .utf8))["lines"] as? Int ?? 0
        }
        #expect(counts.allSatisfy { $0 > 0 } && counts.reduce(0, +) == total)
        // Every state equals the batch engine's over that member's own arrival order (its offline
        // store), and no user was folded by both members: one user's events stay in one partition.
        let online = try contents(try store("redis://127.0.0.1:\(redis.port)/0"), kinds: [0, 1, 2])
        var expected: [Int: [String: [UInt8]]] = [0: [:], 2: [:]]
        for name in ["member-a", "member-b"] {
            let states = StateTable(engine: FeatureEngine(registry: registry), entityKinds: [0, 2])
            for stored in try offlineRows("\(dir)/\(name)/offline") { states.fold(stored.event) }
            for e in [0, 2] {
                for (key, state) in states.tables[e] {
                    #expect(expected[e]![key] == nil, "\(key) folded by both members")
                    expected[e]![key] = StoredValue.encode(
                        lastTime: state.lastTime, blob: StateCodec.encode(state, engine: states.engine, entity: e))
                }
            }
        }
        for e in [0, 2] {
            let got = online[e] ?? [:]
            let want = expected[e] ?? [:]
            let missing = want.keys.filter { got[$0] == nil }.count
            let extra = got.keys.filter { want[$0] == nil }.count
            let differing = want.keys.filter { got[$0] != nil && got[$0] != want[$0] }.sorted()
            #expect(
                missing == 0 && extra == 0 && differing.isEmpty && want.count > 100,
                "entity \(e): \(missing) missing, \(extra) extra, \(differing.count) differ, e.g. \(differing.prefix(3))"
            )
        }
        #expect(online[1]!.isEmpty)
    }

    @Test func badSourcesStoresAndEntitiesAreOneLineErrors() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try BinaryRunner.run(["init"], in: dir)
        let port = try RedisServer.freePort()
        let refused = try BinaryRunner.run(
            ["stream", "--source", "x.jsonl", "--online", "redis://:hunter2@127.0.0.1:\(port)/0"], in: dir)
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("fsml: error: redis at 127.0.0.1:\(port)/0"))
        #expect(!refused.stderr.contains("hunter2"))
        let scheme = try BinaryRunner.run(["stream", "--source", "s3://bucket/x"], in: dir)
        #expect(scheme.status == 64 && scheme.stderr.contains("is not a source"))
        let entity = try BinaryRunner.run(["stream", "--source", "x.jsonl", "--entities", "user,shop"], in: dir)
        #expect(entity.status == 64 && entity.stderr.contains("no entity 'shop'"))
        let missing = try BinaryRunner.run(["stream", "--source", "nope.jsonl", "--no-online"], in: dir)
        #expect(missing.status == 1 && missing.stderr.contains("nope.jsonl"))
    }

    // MARK: - Helpers

    func waitFor(seconds: Double = 120, _ condition: () throws -> Bool) throws {
        let deadline = monotonicNanos() + UInt64(seconds * 1e9)
        while monotonicNanos() < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        Issue.record("timed out after \(seconds) s")
        throw TimedOut()
    }

    struct TimedOut: Error {}

    func waitForMetricsPort(_ stderrPath: String) throws -> Int {
        var port = 0
        try waitFor {
            let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            guard let range = text.range(of: "metrics on http://127.0.0.1:") else { return false }
            port = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port > 0
        }
        return port
    }

    func eventsTotal(_ port: Int) throws -> Double {
        let body = try HTTPGet.get(port: port, path: "/metrics").body
        let line = body.split(separator: "\n").first { $0.hasPrefix("fsml_stream_events_total{") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// The partitions a member's stderr last said it was assigned.
    func lastAssignment(_ path: String) -> Set<Int> {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard
            let line = text.split(separator: "\n").last(where: {
                $0.contains("assigned partitions") || $0.contains("revoked")
            }),
            line.contains("assigned partitions"), let words = line.split(separator: " ").dropFirst(3).first
        else { return [] }
        return Set(words.split(separator: ",").compactMap { Int($0) })
    }
}
