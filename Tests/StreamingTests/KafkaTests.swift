import FeatureCore
import Foundation
import FsmlCore
import OnlineStorage
import Testing

@testable import Streaming

/// The Kafka path against librdkafka's mock cluster: a real Kafka-protocol listener in this process.
@Suite(.serialized) struct KafkaTests {
    static func produce(_ lines: [String], to cluster: KafkaMockCluster, topic: String) throws {
        let producer = try KafkaProducer(brokers: cluster.bootstrap, topic: topic)
        for line in lines {
            var bytes = Array(line.utf8)
            let key = String(line.split(separator: ":")[0])
            try bytes.withUnsafeMutableBytes { try producer.send(UnsafeRawBufferPointer($0), key: key) }
        }
        #expect(try producer.flush() == 0)
    }

    static func drain(_ source: KafkaSource, limit: Int = 100_000) throws -> [String] {
        var out: [String] = []
        let deadline = monotonicNanos() + 120_000_000_000
        while !source.isExhausted && out.count < limit && monotonicNanos() < deadline {
            if let line = try source.next(timeout: 0.1) { out.append(String(decoding: line, as: UTF8.self)) }
        }
        return out
    }

    @Test func everyMessageOnceInKeyOrderAndCommittedOffsetsHold() throws {
        let cluster = try KafkaMockCluster(topics: [("events", 3)])
        let lines = (0..<600).map { "user\($0 % 17):\($0)" }
        try Self.produce(lines, to: cluster, topic: "events")
        let address = KafkaAddress(brokers: cluster.bootstrap, topic: "events", group: "g1")
        let source = try KafkaSource(address: address, untilEnd: true)
        let read = try Self.drain(source)
        #expect(read.sorted() == lines.sorted())
        // One key's messages keep their order (one partition each).
        for user in 0..<17 {
            let mine = read.filter { $0.hasPrefix("user\(user):") }
            #expect(mine == lines.filter { $0.hasPrefix("user\(user):") })
        }
        #expect(source.assignedPartitions == [0, 1, 2])
        try source.commit()
        source.close()
        // The group carries on after the committed offsets: nothing is read twice.
        let more = (600..<630).map { "user\($0 % 17):\($0)" }
        try Self.produce(more, to: cluster, topic: "events")
        let again = try KafkaSource(address: address, untilEnd: true)
        defer { again.close() }
        #expect(try Self.drain(again).sorted() == more.sorted())
    }

    @Test func aCheckpointedPositionWinsOverTheGroupsOffsets() throws {
        let cluster = try KafkaMockCluster(topics: [("events", 2)])
        let lines = (0..<200).map { "user\($0 % 5):\($0)" }
        try Self.produce(lines, to: cluster, topic: "events")
        let address = KafkaAddress(brokers: cluster.bootstrap, topic: "events", group: "g2")
        let first = try KafkaSource(address: address, untilEnd: true)
        var firstRead = try Self.drain(first, limit: 50)
        // A checkpoint records the partitions read from; read until both have been.
        while Set(firstRead.map { Int($0.dropFirst(4).prefix { $0 != ":" })! % 5 }).count < 5 {
            firstRead += try Self.drain(first, limit: 1)
        }
        let position = first.position
        // The group's offsets move on to the end, but the checkpoint says 50 messages were taken.
        _ = try Self.drain(first)
        try first.commit()
        first.close()
        let second = try KafkaSource(address: address, untilEnd: true)
        defer { second.close() }
        try second.restore(try JSONParser.parse(JSONText.render(position, indent: nil)))
        let rest = try Self.drain(second)
        #expect((firstRead + rest).sorted() == lines.sorted())
    }

    @Test func aStreamJobFromKafkaEqualsTheBatchEngine() throws {
        let cluster = try KafkaMockCluster(topics: [("clicks", 1)])
        let bytes = try StreamFixture.lines(seed: 21, events: 3_000)
        let producer = try KafkaProducer(brokers: cluster.bootstrap, topic: "clicks")
        for line in bytes.split(separator: 10) { try Array(line).withUnsafeBytes { try producer.send($0, key: nil) } }
        #expect(try producer.flush() == 0)
        let (states, intake, _) = StreamFixture.oracle(bytes)
        let dir = StreamFixture.temporaryDirectory()
        let store = try OnlineStores.open(
            .sqlite(path: "\(dir)/online.db"), project: "t", entities: StreamFixture.registry.entities)
        let address = KafkaAddress(brokers: cluster.bootstrap, topic: "clicks", group: "jobs")
        let job = StreamJob(
            registry: StreamFixture.registry, source: try KafkaSource(address: address, untilEnd: true),
            sourceName: address.description, online: store, offline: nil, options: StreamFixture.options(dir))
        defer { job.close() }
        try job.start()
        let report = try job.run()
        #expect(report.counts == intake.counts)
        let watermark = intake.admission.watermark
        #expect(
            try StreamFixture.differences(states, store) { e, _, s in
                watermark - s.lastTime > StreamFixture.registry.entities[e].ttl
            }.isEmpty)
        // Dead letters name the partition and offset they came from.
        let deadLetters = try FileSystem.readText(job.deadLetterPath)
        #expect(deadLetters.contains("\"source\":\"kafka://\(cluster.bootstrap)/clicks/0\""))
    }

    /// One event dated in the year 9999 in one partition of three: a dead letter with its reason;
    /// the clock and every other decision stay where the other events put them.
    @Test func aFutureEventInOnePartitionCannotPoisonTheClock() throws {
        let cluster = try KafkaMockCluster(topics: [("clicks", 3)])
        var lines = try StreamFixture.lines(seed: 22, events: 3_000).split(separator: 10).map(Array.init)
        // Valid events only (the fixture's malformed lines would be dead letters too).
        lines.removeAll { ((try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any])?["user_id"] == nil }
        var poison = try JSONSerialization.jsonObject(with: Data(lines[1_500])) as! [String: Any]
        poison["event_ts"] = "9999-12-31T23:59:59Z"
        poison["event_id"] = "from-the-future"
        lines.insert([UInt8](try JSONSerialization.data(withJSONObject: poison)), at: 1_500)
        let producer = try KafkaProducer(brokers: cluster.bootstrap, topic: "clicks")
        for line in lines {
            let user = (try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any])["user_id"] as! String
            try line.withUnsafeBytes { try producer.send($0, key: user) }
        }
        #expect(try producer.flush() == 0)
        let dir = StreamFixture.temporaryDirectory()
        let address = KafkaAddress(brokers: cluster.bootstrap, topic: "clicks", group: "jobs")
        let job = StreamJob(
            registry: StreamFixture.registry, source: try KafkaSource(address: address, untilEnd: true),
            sourceName: address.description, online: nil, offline: nil, options: StreamFixture.options(dir))
        defer { job.close() }
        try job.start()
        let report = try job.run()
        #expect(report.counts.lines == lines.count && report.counts.deadLetters >= 1)
        let c = report.counts
        #expect(c.admitted + c.late + c.duplicates + c.deadLetters == lines.count && c.waiting == 0)
        #expect(report.counts.late < lines.count / 10)
        #expect(job.intake.admission.clock < (try Timestamp.parse("2100-01-01T00:00:00Z").get()))
        let deadLetters = try FileSystem.readText(job.deadLetterPath)
        #expect(deadLetters.components(separatedBy: "ahead of the stream clock").count == 2)
        #expect(deadLetters.contains("event time is 7,975 years ahead of the stream clock"))
        #expect(deadLetters.contains("from-the-future"))
    }
}
