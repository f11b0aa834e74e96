import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import OnlineStorage
import PointInTime
import Testing

@testable import Streaming

@Suite struct StreamJobTests {
    let registry = StreamFixture.registry

    func job(
        _ path: String, _ dir: String, online: (any OnlineStore)?, offline: OfflineStore?,
        options: StreamOptions? = nil
    ) throws -> StreamJob {
        StreamJob(
            registry: registry, source: try FileSource(path: path, untilEnd: true), sourceName: "file:\(path)",
            online: online, offline: offline, options: options ?? StreamFixture.options(dir))
    }

    @Test func everyOnlineStateEqualsTheBatchEngineInRedisAndSQLite() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 11)
        try StreamFixture.write(bytes, to: "\(dir)/events.jsonl")
        let (states, intake, admitted) = StreamFixture.oracle(bytes)
        #expect(intake.counts.late > 0 && intake.counts.duplicates > 0 && intake.counts.deadLetters > 0)

        let redis = try RedisServer()
        let redisStore = try OnlineStores.open(
            try OnlineStoreURL.parse(redis.url), project: "t", entities: registry.entities)
        let offline = OfflineStore(root: "\(dir)/offline")
        let a = try job("\(dir)/events.jsonl", "\(dir)/a", online: redisStore, offline: offline)
        try a.start()
        let report = try a.run()
        #expect(report.counts == intake.counts)
        #expect(try StreamFixture.differences(states, redisStore).isEmpty)
        #expect(try StreamFixture.offlineRows(offline) == admitted)
        #expect(StreamFixture.lineCount(a.deadLetterPath) == intake.counts.deadLetters)
        #expect(StreamFixture.lineCount(a.latePath) == intake.counts.late)
        #expect(report.freshness.count == intake.counts.admitted)
        // The offline store's state lets `fsml ingest` or a build carry on from here.
        let state = try #require(try IntakeState.load(path: offline.statePath))
        #expect(state.nextSequence == Int64(admitted.count) && state.counts == intake.counts)

        let sqlite = try OnlineStores.open(.sqlite(path: "\(dir)/online.db"), project: "t", entities: registry.entities)
        let b = try job("\(dir)/events.jsonl", "\(dir)/b", online: sqlite, offline: nil)
        try b.start()
        _ = try b.run()
        // SQLite drops states that expired before the watermark; every other one is there.
        let watermark = intake.admission.watermark
        let differences = try StreamFixture.differences(states, sqlite) { e, _, state in
            watermark - state.lastTime > registry.entities[e].ttl
        }
        #expect(differences.isEmpty)
    }

    @Test func stoppingAndResumingEqualsOneRun() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 12)
        try StreamFixture.write(bytes, to: "\(dir)/events.jsonl")
        let (states, intake, admitted) = StreamFixture.oracle(bytes)
        let store = try OnlineStores.open(.sqlite(path: "\(dir)/online.db"), project: "t", entities: registry.entities)
        let offline = OfflineStore(root: "\(dir)/offline")
        var parts = 0
        var reports: [StreamReport] = []
        while true {
            var options = StreamFixture.options(dir)
            options.maxLines = 1_700
            let j = try job("\(dir)/events.jsonl", dir, online: store, offline: offline, options: options)
            let start = try j.start()
            if parts > 0 { #expect(start == .resumed(line: parts * 1_700)) }
            let report = try j.run()
            reports.append(report)
            parts += 1
            if report.counts.lines < 1_700 { break }
        }
        #expect(parts >= 4)
        #expect(reports.reduce(0) { $0 + $1.counts.lines } == intake.counts.lines)
        #expect(reports.last!.totals == intake.counts)
        let watermark = intake.admission.watermark
        #expect(
            try StreamFixture.differences(states, store) { e, _, s in watermark - s.lastTime > registry.entities[e].ttl
            }.isEmpty)
        #expect(try StreamFixture.offlineRows(offline) == admitted)
        // One run's reject logs, appended to across the restarts.
        let deadLetters = try FileManager.default.contentsOfDirectory(atPath: offline.deadLetterDirectory)
        #expect(deadLetters.count == 1)
        #expect(
            StreamFixture.lineCount("\(offline.deadLetterDirectory)/\(deadLetters[0])") == intake.counts.deadLetters)
    }

    @Test func aCrashAfterTheCheckpointIsUndoneOnRestart() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 13)
        try StreamFixture.write(bytes, to: "\(dir)/events.jsonl")
        let (states, intake, admitted) = StreamFixture.oracle(bytes)
        let redis = try RedisServer()
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse(redis.url), project: "t", entities: registry.entities)
        let offline = OfflineStore(root: "\(dir)/offline")
        // A first run checkpoints after 2,000 lines, then goes on to write 1,500 more lines' worth to
        // every sink and dies without a checkpoint.
        var options = StreamFixture.options(dir)
        options.maxLines = 2_000
        let first = try job("\(dir)/events.jsonl", dir, online: store, offline: offline, options: options)
        try first.start()
        _ = try first.run()
        let checkpoint = try FileSystem.readBytes(first.checkpointPath)
        let intakeState = try FileSystem.readBytes(offline.statePath)
        let deadLetterPath = first.deadLetterPath
        options.maxLines = 1_500
        let second = try job("\(dir)/events.jsonl", dir, online: store, offline: offline, options: options)
        try second.start()
        _ = try second.run()
        try FileSystem.writeAtomically(checkpoint, to: first.checkpointPath)
        try FileSystem.writeAtomically(intakeState, to: offline.statePath)
        #expect(StreamFixture.lineCount(deadLetterPath) > 0)
        // The restart removes what came after the checkpoint and replays it once.
        let third = try job("\(dir)/events.jsonl", dir, online: store, offline: offline)
        #expect(try third.start() == .resumed(line: 2_000))
        _ = try third.run()
        #expect(try StreamFixture.differences(states, store).isEmpty)
        #expect(try StreamFixture.offlineRows(offline) == admitted)
        #expect(StreamFixture.lineCount(deadLetterPath) == intake.counts.deadLetters)
        #expect(StreamFixture.lineCount(third.latePath) == intake.counts.late)
    }

    @Test func withoutACheckpointTheOfflineHistoryIsReplayedFirst() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 14)
        let all = bytes.split(separator: 10, omittingEmptySubsequences: false)
        let half = all.count / 2
        try StreamFixture.write(Array(all[..<half].joined(separator: [10])) + [10], to: "\(dir)/first.jsonl")
        try StreamFixture.write(Array(all[half...].joined(separator: [10])), to: "\(dir)/second.jsonl")
        let (states, intake, admitted) = StreamFixture.oracle(bytes)
        // The first half goes in as a batch ingest would put it.
        let offline = OfflineStore(root: "\(dir)/offline")
        let batch = try job("\(dir)/first.jsonl", "\(dir)/batch", online: nil, offline: offline)
        try batch.start()
        _ = try batch.run()
        let store = try OnlineStores.open(.sqlite(path: "\(dir)/online.db"), project: "t", entities: registry.entities)
        let live = try job("\(dir)/second.jsonl", "\(dir)/live", online: store, offline: offline)
        guard case .bootstrapped(let events) = try live.start() else {
            Issue.record("did not replay the offline store")
            return
        }
        #expect(events > 0)
        _ = try live.run()
        let watermark = intake.admission.watermark
        #expect(
            try StreamFixture.differences(states, store) { e, _, s in watermark - s.lastTime > registry.entities[e].ttl
            }.isEmpty)
        #expect(try StreamFixture.offlineRows(offline) == admitted)
    }

    @Test func twoJobsSplitByEntityKindTogetherEqualOne() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 15)
        try StreamFixture.write(bytes, to: "\(dir)/events.jsonl")
        let (states, _, admitted) = StreamFixture.oracle(bytes)
        let redis = try RedisServer()
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse(redis.url), project: "t", entities: registry.entities)
        let offline = OfflineStore(root: "\(dir)/offline")
        var users = StreamFixture.options(dir, name: "stream-user-session")
        users.entityKinds = [0, 2, 3]
        var products = StreamFixture.options(dir, name: "stream-product")
        products.entityKinds = [1]
        let a = try job("\(dir)/events.jsonl", dir, online: store, offline: offline, options: users)
        let b = try job("\(dir)/events.jsonl", dir, online: store, offline: nil, options: products)
        try a.start()
        try b.start()
        _ = try a.run()
        _ = try b.run()
        #expect(a.states.tables[1].isEmpty && b.states.tables[0].isEmpty)
        #expect(try StreamFixture.differences(states, store).isEmpty)
        #expect(try StreamFixture.offlineRows(offline) == admitted)
    }

    @Test func aCheckpointFromOtherDefinitionsOrSourcesIsRefused() throws {
        let dir = StreamFixture.temporaryDirectory()
        try StreamFixture.write(try StreamFixture.lines(seed: 16, events: 500), to: "\(dir)/events.jsonl")
        try StreamFixture.write(try StreamFixture.lines(seed: 17, events: 500), to: "\(dir)/other.jsonl")
        let first = try job("\(dir)/events.jsonl", dir, online: nil, offline: nil)
        try first.start()
        _ = try first.run()
        let other = try job("\(dir)/other.jsonl", dir, online: nil, offline: nil)
        #expect { try other.start() } throws: { "\($0)".contains("belongs to source file:\(dir)/events.jsonl") }

        var changed = registry
        changed.entities[0].ttl += 1
        let redefined = StreamJob(
            registry: changed, source: try FileSource(path: "\(dir)/events.jsonl", untilEnd: true),
            sourceName: "file:\(dir)/events.jsonl", online: nil, offline: nil, options: StreamFixture.options(dir))
        #expect { try redefined.start() } throws: { "\($0)".contains("other feature definitions") }
    }

    @Test func aPacedRunReleasesEventsAtTheRate() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 18, events: 400)
        try StreamFixture.write(bytes, to: "\(dir)/events.jsonl")
        var options = StreamFixture.options(dir)
        options.rate = 2_000
        options.maxLines = 300
        let store = try OnlineStores.open(.sqlite(path: "\(dir)/online.db"), project: "t", entities: registry.entities)
        let j = try job("\(dir)/events.jsonl", dir, online: store, offline: nil, options: options)
        try j.start()
        let report = try j.run()
        // 300 lines at 2,000/s take at least 0.15 s.
        #expect(report.counts.lines == 300)
        #expect(report.seconds >= 0.149)
        #expect(report.flushes > 1)
    }
}
