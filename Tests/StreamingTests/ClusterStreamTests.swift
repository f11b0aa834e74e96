import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import OnlineStorage
import Testing

@testable import Streaming

/// The stream job writing a real Redis Cluster (3 masters, 3 replicas on loopback): its final
/// state equals a single Redis's key for key, also when a master is killed mid-stream and when
/// slots are resharded while it writes.
@Suite struct ClusterStreamTests {
    let registry = StreamFixture.registry

    /// A job that reads `path` as it grows and stops after `lines` lines; store writes retried fast.
    func job(
        _ path: String, _ dir: String, online: any OnlineStore, lines: Int? = nil, metrics: MetricsRegistry
    ) throws -> StreamJob {
        var options = StreamFixture.options(dir)
        options.maxLines = lines
        options.retry = RetryPolicy(initialDelay: 0.02, maxDelay: 0.2, maxAttempts: nil)
        return StreamJob(
            registry: registry, source: try FileSource(path: path, untilEnd: lines == nil), sourceName: "file:\(path)",
            online: online, offline: nil, options: options, metrics: metrics)
    }

    /// What one Redis holds after streaming all of `bytes`.
    func singleRedisRun(_ bytes: [UInt8], _ dir: String) throws -> [String: [UInt8]] {
        try StreamFixture.write(bytes, to: "\(dir)/all.jsonl")
        let redis = try RedisServer()
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse(redis.url), project: "t", entities: registry.entities)
        let j = try job("\(dir)/all.jsonl", "\(dir)/single", online: store, metrics: MetricsRegistry())
        try j.start()
        _ = try j.run()
        j.close()
        return try StoreContents.all(store, entityCount: registry.entities.count)
    }

    /// Streams the first half of `bytes`, waits until the job has taken it, runs `meanwhile` (a
    /// failure injected), appends the rest, and waits for the job to finish it all.
    func streamAroundAnEvent(
        _ bytes: [UInt8], _ dir: String, online: any OnlineStore, meanwhile: () throws -> Void
    ) throws -> MetricsRegistry {
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false).dropLast()
        let half = lines.count / 2
        let path = "\(dir)/growing.jsonl"
        try StreamFixture.write(Array(lines[..<half].joined(separator: [10])) + [10], to: path)
        let metrics = MetricsRegistry()
        let j = try job(path, "\(dir)/cluster", online: online, lines: lines.count, metrics: metrics)
        let box = JobBox(j)
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            do {
                try box.job.start()
                _ = try box.job.run()
            } catch { box.error = error }
            finished.signal()
        }
        thread.start()
        // The first half is read and flushed (the counters are published at each flush).
        while metrics.value("fsml_stream_events_total", labels: [("job", "stream")]) < Double(half) {
            if box.error != nil { break }
            usleep(10_000)
        }
        try meanwhile()
        let rest = Array(lines[half...].joined(separator: [10])) + [10]
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(rest))
        try handle.close()
        finished.wait()
        j.close()
        if let error = box.error { throw error }
        return metrics
    }

    final class JobBox: @unchecked Sendable {
        let job: StreamJob
        var error: (any Error)?
        init(_ job: StreamJob) { self.job = job }
    }

    @Test func theClusterHoldsWhatOneRedisHoldsKeyForKey() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 31)
        let expected = try singleRedisRun(bytes, dir)
        #expect(expected.count > 100)
        let cluster = try RedisCluster.shared()
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse(cluster.url), project: "t-\(UUID().uuidString)", entities: registry.entities)
        let j = try job("\(dir)/all.jsonl", "\(dir)/cluster", online: store, metrics: MetricsRegistry())
        try j.start()
        _ = try j.run()
        j.close()
        let got = try StoreContents.all(store, entityCount: registry.entities.count)
        #expect(StoreContents.differences(expected, got) == [])
    }

    @Test func aMasterKilledMidStreamLosesNothing() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 32)
        let expected = try singleRedisRun(bytes, dir)
        let cluster = try RedisCluster()
        defer { cluster.stop() }
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse(cluster.url), project: "t", entities: registry.entities, timeoutMillis: 500)
        var killed: RedisCluster.Node?
        let metrics = try streamAroundAnEvent(bytes, dir, online: store) {
            killed = try cluster.crashMaster()
        }
        let dead = try #require(killed)
        // The job finished, so writes resumed: on a promoted replica.
        try cluster.waitForFailover(of: dead)
        // The store saw the promotion and the job wrote every state again (what the old master
        // acknowledged and had not yet replicated is back).
        #expect(metrics.value("fsml_stream_store_losses_total", labels: [("job", "stream")]) >= 1)
        #expect(metrics.value("fsml_stream_store_errors_total", labels: [("job", "stream")]) >= 1)
        let got = try StoreContents.all(store, entityCount: registry.entities.count)
        #expect(StoreContents.differences(expected, got) == [])
    }

    @Test func slotsReshardedMidStreamLoseNothing() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 33)
        let expected = try singleRedisRun(bytes, dir)
        let cluster = try RedisCluster()
        defer { cluster.stop() }
        let store = try OnlineStores.open(
            try OnlineStoreURL.parse(cluster.url), project: "t", entities: registry.entities)
        let masters = cluster.masters()
        var reshard: ChildProcess?
        _ = try streamAroundAnEvent(bytes, dir, online: store) {
            reshard = try cluster.reshard(count: 1_500, from: masters[0], to: masters[1])
        }
        #expect(reshard?.wait() == 0)
        let after = cluster.masters()
        #expect(after.first { $0.id == masters[1].id }.map(\.slotCount) == masters[1].slotCount + 1_500)
        let got = try StoreContents.all(store, entityCount: registry.entities.count)
        #expect(StoreContents.differences(expected, got) == [])
    }
}
