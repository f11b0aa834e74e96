import Foundation
import FsmlCore
import Testing

@testable import Streaming

/// The consumer alone, with a handover that records what it is asked: incremental rebalancing,
/// and offsets from the handover rather than the group.
@Suite(.serialized) struct KafkaGroupConsumerTests {
    final class Recorder: PartitionHandover {
        var assigned: [[Int32]] = []
        var revoked: [[Int32]] = []
        var start: Int64?
        func assign(_ partitions: [Int32]) throws -> [Int32: Int64] {
            assigned.append(partitions.sorted())
            return start.map { s in Dictionary(uniqueKeysWithValues: partitions.map { ($0, s) }) } ?? [:]
        }
        func revoke(_ partitions: [Int32]) throws { revoked.append(partitions.sorted()) }
        func lose(_ partitions: [Int32]) {}
    }

    static func address(_ cluster: KafkaMockCluster) -> KafkaAddress {
        KafkaAddress(brokers: cluster.bootstrap, topic: "t", group: "g")
    }

    static func waitFor(_ condition: () throws -> Bool, polling: [KafkaGroupConsumer]) throws {
        let deadline = monotonicNanos() + 120_000_000_000
        while try !condition() {
            guard monotonicNanos() < deadline else { throw KafkaError("timed out") }
            for c in polling { _ = try c.next(timeout: 0.02) }
        }
    }

    @Test func aJoiningMemberTakesSomePartitionsAndTheFirstKeepsTheRest() throws {
        let cluster = try KafkaMockCluster(topics: [("t", 8)])
        let a = Recorder()
        let b = Recorder()
        let first = try KafkaGroupConsumer(address: Self.address(cluster), handover: a, clientID: "a")
        try Self.waitFor({ first.held.count == 8 }, polling: [first])
        let second = try KafkaGroupConsumer(address: Self.address(cluster), handover: b, clientID: "b")
        try Self.waitFor(
            {
                !second.held.isEmpty && first.held.isDisjoint(with: second.held)
                    && first.held.count + second.held.count == 8
            },
            polling: [first, second])
        // Only what moved was revoked from the first, and it kept the rest all along.
        #expect(a.revoked.flatMap { $0 }.sorted() == second.held.sorted())
        // (Cooperative rounds may assign nothing: empty lists.)
        #expect(a.assigned.filter { !$0.isEmpty } == [Array(0..<8)])
        #expect(b.assigned.flatMap { $0 }.sorted() == second.held.sorted())
        second.close()
        // Leaving revokes what it held, and the first gets it back.
        #expect(b.revoked.flatMap { $0 }.sorted() == b.assigned.flatMap { $0 }.sorted())
        try Self.waitFor({ first.held.count == 8 }, polling: [first])
        first.close()
    }

    @Test func partitionsStartWhereTheHandoverSays() throws {
        let cluster = try KafkaMockCluster(topics: [("t", 8)])
        let producer = try KafkaProducer(brokers: cluster.bootstrap, topic: "t")
        for i in 0..<400 {
            var bytes = Array("m\(i)".utf8)
            try bytes.withUnsafeMutableBytes { try producer.send(UnsafeRawBufferPointer($0), key: "k\(i % 40)") }
        }
        #expect(try producer.flush() == 0)
        let recorder = Recorder()
        recorder.start = 3
        let consumer = try KafkaGroupConsumer(address: Self.address(cluster), handover: recorder, clientID: "a")
        defer { consumer.close() }
        var offsets: [Int64] = []
        let deadline = monotonicNanos() + 120_000_000_000
        while !consumer.isAtEnd && monotonicNanos() < deadline {
            if let m = try consumer.next(timeout: 0.05) { offsets.append(m.offset) }
        }
        let partitions = Set(recorder.assigned.flatMap { $0 })
        #expect(partitions.count == 8 && offsets.min() == 3 && offsets.count == 400 - 3 * 8)
    }
}
