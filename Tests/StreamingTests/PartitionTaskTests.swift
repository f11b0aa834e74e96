import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import Testing

@testable import Streaming

/// A partition's share of a member's work, without Kafka: its decisions depend on its own lines
/// alone, and a shard restores it exactly or is refused.
struct PartitionTaskTests {
    static func context(_ dir: String, topic: String = "clicks", kinds: [Int]? = [0, 2]) -> PartitionTask.Context {
        let registry = StreamFixture.registry
        return PartitionTask.Context(
            registry: registry, engine: FeatureEngine(registry: registry), entityKinds: kinds,
            layout: ShardLayout(directory: "\(dir)/shards", topic: topic), offlineBase: "\(dir)/offline",
            rejectBase: "\(dir)/rejects", brokers: "127.0.0.1:9")
    }

    static func lines(seed: UInt64) throws -> [[UInt8]] {
        try StreamFixture.lines(seed: seed, events: 1_500).split(separator: 10).map(Array.init)
    }

    static func take(_ lines: ArraySlice<[UInt8]>, into task: PartitionTask) throws {
        for (offset, line) in zip(lines.indices, lines) {
            try line.withUnsafeBytes { try task.take($0, length: $0.count, offset: Int64(offset)) }
        }
    }

    /// Taken in two halves with a shard between them, by two tasks, the partition ends as one task
    /// taking every line: the same shard bytes but for the time it was written.
    @Test func aShardRestoresThePartitionExactly() throws {
        let lines = try Self.lines(seed: 51)
        let dir = StreamFixture.temporaryDirectory()
        let layout = Self.context(dir).layout
        let whole = try PartitionTask(partition: 3, context: Self.context("\(dir)/whole"))
        try Self.take(lines[...], into: whole)
        _ = try whole.writeShard(layout: Self.context("\(dir)/whole").layout, owner: "x")

        let first = try PartitionTask(partition: 3, context: Self.context(dir))
        try Self.take(lines[..<700], into: first)
        #expect(try first.writeShard(layout: layout, owner: "x") == 700)
        let second = try PartitionTask(partition: 3, context: Self.context(dir))
        #expect(second.nextOffset == 700 && second.countsAtStart == first.counts)
        try Self.take(lines[700...], into: second)
        _ = try second.writeShard(layout: layout, owner: "x")

        #expect(second.counts == whole.counts && second.clock == whole.clock)
        #expect(Self.encoded(second.states) == Self.encoded(whole.states))
        let rows = try StreamFixture.offlineRows(second.offlineStore!)
        #expect(rows == (try StreamFixture.offlineRows(whole.offlineStore!)) && !rows.isEmpty)
    }

    static func encoded(_ states: StateTable) -> [[String: [UInt8]]] {
        states.tables.enumerated().map { e, table in
            table.mapValues { StateCodec.encode($0, engine: states.engine, entity: e) }
        }
    }

    @Test func aShardOfAnotherPartitionTopicOrKindsIsRefused() throws {
        let dir = StreamFixture.temporaryDirectory()
        let task = try PartitionTask(partition: 1, context: Self.context(dir))
        _ = try task.writeShard(layout: Self.context(dir).layout, owner: "x")
        // Moved under another partition's name.
        let layout = Self.context(dir).layout
        try FileSystem.writeAtomically(
            try FileSystem.readBytes(layout.shardPath(partition: 1)), to: layout.shardPath(partition: 2))
        #expect(throws: StreamError.self) { _ = try PartitionTask(partition: 2, context: Self.context(dir)) }
        // Read by a member folding other entity kinds.
        #expect(throws: StreamError.self) {
            _ = try PartitionTask(partition: 1, context: Self.context(dir, kinds: [0]))
        }
    }

    @Test func anOfflineStoreWithoutItsShardIsRefused() throws {
        let dir = StreamFixture.temporaryDirectory()
        let task = try PartitionTask(partition: 0, context: Self.context(dir))
        try Self.take(try Self.lines(seed: 52)[..<200], into: task)
        _ = try task.writeShard(layout: Self.context(dir).layout, owner: "x")
        try FileManager.default.removeItem(atPath: Self.context(dir).layout.shardPath(partition: 0))
        #expect(throws: StreamError.self) { _ = try PartitionTask(partition: 0, context: Self.context(dir)) }
    }
}
