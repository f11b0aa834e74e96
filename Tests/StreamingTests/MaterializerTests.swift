import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import OnlineStorage
import Testing

@testable import Streaming

/// Rebuilding an online store from the offline store gives what the stream wrote, key for key,
/// into any store; as of T, the states of the events known by T.
@Suite struct MaterializerTests {
    let registry = StreamFixture.registry

    /// Streams `bytes` into `online` with an offline store; returns the offline store.
    func stream(_ bytes: [UInt8], _ dir: String, online: any OnlineStore) throws -> OfflineStore {
        try StreamFixture.write(bytes, to: "\(dir)/events.jsonl")
        let offline = OfflineStore(root: "\(dir)/offline")
        let j = StreamJob(
            registry: registry, source: try FileSource(path: "\(dir)/events.jsonl", untilEnd: true),
            sourceName: "file:\(dir)/events.jsonl", online: online, offline: offline,
            options: StreamFixture.options(dir))
        try j.start()
        _ = try j.run()
        j.close()
        return offline
    }

    @Test func theRebuiltStoreEqualsTheStreamsKeyForKey() throws {
        let dir = StreamFixture.temporaryDirectory()
        let redis = try RedisServer()
        let streamed = try OnlineStores.open(
            try OnlineStoreURL.parse(redis.url), project: "t", entities: registry.entities)
        let offline = try stream(try StreamFixture.lines(seed: 41), dir, online: streamed)
        let expected = try StoreContents.all(streamed, entityCount: registry.entities.count)
        #expect(expected.count > 100)

        // Into a cluster, and into another Redis: the same keys and bytes.
        let cluster = try OnlineStores.open(
            try OnlineStoreURL.parse(try RedisCluster.shared().url), project: "m-\(UUID().uuidString)",
            entities: registry.entities)
        let other = try RedisServer()
        let single = try OnlineStores.open(
            try OnlineStoreURL.parse(other.url), project: "t", entities: registry.entities)
        for store in [cluster, single] {
            let report = try Materializer(registry: registry).run(from: offline, to: store)
            #expect(report.states.reduce(0, +) == expected.count)
            #expect(StoreContents.differences(expected, try StoreContents.all(store, entityCount: 4)) == [])
            #expect(try store.readClock() == streamed.readClock())
        }
        // Again into a store that holds them: nothing changes (event time wins, ties are the same).
        _ = try Materializer(registry: registry).run(from: offline, to: single)
        #expect(StoreContents.differences(expected, try StoreContents.all(single, entityCount: 4)) == [])
    }

    /// A consumer group's offline data (a store per partition, each with its own clock and
    /// sequences) rebuilds as one store: every member's events, merged by known-at time, then member.
    @Test func aGroupsStoresRebuildAsOne() throws {
        let dir = StreamFixture.temporaryDirectory()
        let lines: [[UInt8]] = try StreamFixture.lines(seed: 44).split(separator: 10).map { Array($0) }
        var merged: [(event: StoredEvent, member: Int)] = []
        for p in 0..<2 {
            let bytes: [UInt8] = lines.indices.filter { $0 % 2 == p }.flatMap { i -> [UInt8] in lines[i] + [10] }
            let member = "\(dir)/m\(p)"
            try StreamFixture.write(bytes, to: "\(member)/events.jsonl")
            let j = StreamJob(
                registry: registry, source: try FileSource(path: "\(member)/events.jsonl", untilEnd: true),
                sourceName: "file:\(member)/events.jsonl", online: MemoryOnlineStore(entities: registry.entities),
                offline: OfflineStore(root: OfflineStore.memberDirectory(base: "\(dir)/offline", partition: p)),
                options: StreamFixture.options(member))
            try j.start()
            _ = try j.run()
            j.close()
            merged += StreamFixture.oracle(bytes).admitted.map { ($0, p) }
        }
        merged.sort {
            ($0.event.knownAt, $0.member, $0.event.sequence) < ($1.event.knownAt, $1.member, $1.event.sequence)
        }
        // The oracle: both members' admitted events, folded in that order.
        let states = StateTable(engine: FeatureEngine(registry: registry))
        for e in merged { states.fold(e.event.event) }
        let store = MemoryOnlineStore(entities: registry.entities)
        let report = try Materializer(registry: registry).run(from: OfflineStore(root: "\(dir)/offline"), to: store)
        #expect(report.events == merged.count && merged.count > 1000)
        #expect(try StreamFixture.differences(states, store).isEmpty)
    }

    @Test func asOfATimeOnlyTheEventsKnownByThen() throws {
        let dir = StreamFixture.temporaryDirectory()
        let bytes = try StreamFixture.lines(seed: 42)
        let offline = try stream(bytes, dir, online: MemoryOnlineStore(entities: registry.entities))
        let admitted = StreamFixture.oracle(bytes).admitted
        let times = admitted.map(\.knownAt).sorted()
        for asOf in [times[times.count / 3], times[times.count / 2] + 1, times.first! - 1] {
            // The oracle: the events known by then, folded in arrival order.
            let states = StateTable(engine: FeatureEngine(registry: registry))
            for e in admitted where e.knownAt <= asOf { states.fold(e.event) }
            let store = MemoryOnlineStore(entities: registry.entities)
            let report = try Materializer(registry: registry, asOf: asOf).run(from: offline, to: store)
            #expect(report.events == admitted.filter { $0.knownAt <= asOf }.count)
            #expect(try StreamFixture.differences(states, store).isEmpty)
            #expect(report.states.reduce(0, +) == states.entityCount)
        }
    }

    @Test func aStoreWithoutItsStateIsRefused() throws {
        let dir = StreamFixture.temporaryDirectory()
        let offline = try stream(
            try StreamFixture.lines(seed: 43, events: 300), dir, online: MemoryOnlineStore(entities: registry.entities))
        try FileManager.default.removeItem(atPath: offline.statePath)
        #expect {
            _ = try Materializer(registry: registry).run(
                from: offline, to: MemoryOnlineStore(entities: registry.entities))
        } throws: { "\($0)".contains("_state.json is missing") }
    }
}
