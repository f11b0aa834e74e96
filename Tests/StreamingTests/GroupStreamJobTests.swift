import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import OnlineStorage
import Testing

@testable import Streaming

/// Consumer-group members whose partitions carry their states, against librdkafka's mock cluster
/// (in this process). The oracle is the rule written out: every partition's messages, in offset
/// order, through an intake of its own, every admitted event folded into one engine.
@Suite(.serialized) struct GroupStreamJobTests {
    /// User and session state follow the message key (user_id); product state would not.
    static let kinds = [0, 2]

    struct Topic {
        let cluster: KafkaMockCluster
        let bootstrap: String
        /// Every partition's messages in offset order.
        var partitions: [Int32: [[UInt8]]] = [:]
        var total: Int { partitions.values.reduce(0) { $0 + $1.count } }
    }

    /// Generated events (with late ones, duplicates and malformed lines) keyed by user into a topic
    /// of eight partitions, then read back to learn which partition each went to.
    static func topic(seed: UInt64, events: Int) throws -> Topic {
        let cluster = try KafkaMockCluster(topics: [("clicks", 8)])
        let producer = try KafkaProducer(brokers: cluster.bootstrap, topic: "clicks")
        for line in try StreamFixture.lines(seed: seed, events: events).split(separator: 10) {
            let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
            try Array(line).withUnsafeBytes { try producer.send($0, key: object?["user_id"] as? String) }
        }
        #expect(try producer.flush() == 0)
        var topic = Topic(cluster: cluster, bootstrap: cluster.bootstrap)
        let reader = try KafkaSource(
            address: KafkaAddress(brokers: cluster.bootstrap, topic: "clicks", group: "oracle"), untilEnd: true)
        defer { reader.close() }
        var read: [(Int32, Int, [UInt8])] = []
        let deadline = monotonicNanos() + 120_000_000_000
        while !reader.isExhausted && monotonicNanos() < deadline {
            if let line = try reader.next(timeout: 0.1) {
                read.append((reader.partition!, reader.origin.line, Array(line)))
            }
        }
        for (p, _, bytes) in read.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            topic.partitions[p, default: []].append(bytes)
        }
        return topic
    }

    struct Oracle {
        var states: StateTable
        var counts = IntakeCounts()
        var admitted: [Int32: [StoredEvent]] = [:]
    }

    static func oracle(_ topic: Topic) throws -> Oracle {
        let registry = StreamFixture.registry
        var oracle = Oracle(states: StateTable(engine: FeatureEngine(registry: registry), entityKinds: kinds))
        for (p, lines) in topic.partitions {
            var intake = Intake(schema: registry.schema, lateness: registry.allowedLateness, jumps: registry.clockJumps)
            var sink = CollectingSink()
            for (offset, line) in lines.enumerated() {
                try line.withUnsafeBytes { try intake.take($0, origin: Origin(source: "-", line: offset), into: &sink) }
            }
            for stored in sink.admitted { oracle.states.fold(stored.event) }
            oracle.admitted[p] = sink.admitted
            oracle.counts = oracle.counts.plus(intake.counts)
        }
        return oracle
    }

    static func member(
        _ topic: Topic, dir: String, name: String, untilEnd: Bool = true, maxLines: Int? = nil,
        checkpointInterval: Double = 0.05
    ) throws -> GroupStreamJob {
        var options = GroupMemberOptions(
            name: name, shardDirectory: "\(dir)/shards", rejectDirectory: "\(dir)/rejects")
        options.offlineBase = "\(dir)/offline"
        options.entityKinds = kinds
        options.untilEnd = untilEnd
        options.maxLines = maxLines
        options.checkpointInterval = checkpointInterval
        let store = try OnlineStores.open(
            .sqlite(path: "\(dir)/online.db"), project: "t", entities: StreamFixture.registry.entities)
        return try GroupStreamJob(
            registry: StreamFixture.registry,
            address: KafkaAddress(brokers: topic.bootstrap, topic: "clicks", group: "g"),
            online: store, options: options)
    }

    /// The group's result equals the oracle's: counts and offsets in the shards, every online
    /// state, and every partition's offline store row for row.
    static func expectEqual(_ oracle: Oracle, _ topic: Topic, dir: String) throws {
        let progress = try GroupProgress.read(ShardLayout(directory: "\(dir)/shards", topic: "clicks"))
        #expect(progress.offsets == Int64(topic.total))
        #expect(progress.counts == oracle.counts)
        let store = try OnlineStores.open(
            .sqlite(path: "\(dir)/online.db"), project: "t", entities: StreamFixture.registry.entities)
        let differences = try StreamFixture.differences(oracle.states, store)
        #expect(differences.isEmpty, "\(differences.count) differ, e.g. \(differences.prefix(3))")
        for (p, admitted) in oracle.admitted {
            let rows = try StreamFixture.offlineRows(
                OfflineStore(root: ShardLayout.partitionDirectory(base: "\(dir)/offline", partition: p)))
            #expect(rows == admitted, "partition \(p): \(rows.count) rows, \(admitted.count) expected")
        }
    }

    @Test func oneMemberEqualsTheRuleWrittenOut() throws {
        let topic = try Self.topic(seed: 41, events: 4_000)
        #expect(topic.partitions.count == 8)
        let oracle = try Self.oracle(topic)
        #expect(oracle.counts.late > 0 && oracle.counts.duplicates > 0 && oracle.counts.deadLetters > 0)
        let dir = StreamFixture.temporaryDirectory()
        let member = try Self.member(topic, dir: dir, name: "a")
        let report = try member.run()
        member.close()
        #expect(report.counts == oracle.counts && report.partitionsRestored == 8)
        try Self.expectEqual(oracle, topic, dir: dir)
    }

    /// A member leaves half way (its partitions' shards written as it goes); another restores them.
    @Test func aMemberThatLeavesHandsItsStatesOver() throws {
        let topic = try Self.topic(seed: 42, events: 4_000)
        let oracle = try Self.oracle(topic)
        let dir = StreamFixture.temporaryDirectory()
        let first = try Self.member(topic, dir: dir, name: "a", untilEnd: false, maxLines: topic.total / 2)
        let firstReport = try first.run()
        first.close()
        #expect(firstReport.counts.lines == topic.total / 2 && firstReport.partitionsHandedOver == 8)
        #expect(try GroupProgress.read(first.layout).offsets == Int64(topic.total / 2))
        let second = try Self.member(topic, dir: dir, name: "b")
        let secondReport = try second.run()
        second.close()
        #expect(secondReport.counts.lines == topic.total - topic.total / 2)
        try Self.expectEqual(oracle, topic, dir: dir)
    }

    /// A member dies having folded, written online and logged rejects past its partitions' last
    /// shards: the next owner undoes what the shards do not hold and does it again.
    @Test func aMemberThatDiesIsReplayedFromItsLastShards() throws {
        let topic = try Self.topic(seed: 43, events: 4_000)
        let oracle = try Self.oracle(topic)
        let dir = StreamFixture.temporaryDirectory()
        let first = try Self.member(topic, dir: dir, name: "a", untilEnd: false, maxLines: topic.total / 2)
        _ = try first.run()
        first.close()
        let dying = try Self.member(topic, dir: dir, name: "b", untilEnd: false, checkpointInterval: 3_600)
        dying.crashAfterLines = topic.total / 4
        #expect(throws: StreamError.self) { try dying.run() }
        dying.close()
        #expect(dying.report.partitionsLost == 8 && dying.report.partitionsHandedOver == 0)
        // Its shards are the ones it restored: nothing of what it did after them.
        let progress = try GroupProgress.read(dying.layout)
        #expect(progress.offsets == Int64(topic.total / 2) && progress.owners == ["a"])
        let third = try Self.member(topic, dir: dir, name: "c")
        _ = try third.run()
        third.close()
        try Self.expectEqual(oracle, topic, dir: dir)
    }
}
