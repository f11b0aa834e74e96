import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import Testing

@testable import Streaming

/// A partition's share of a member's work, without Kafka: its decisions depend on its own lines
/// alone, and a shard restores it exactly or is refused.
struct PartitionTaskTests {
    static func context(
        _ dir: String, topic: String = "clicks", kinds: [Int]? = [0, 2], owner: String = "x"
    ) -> PartitionTask.Context {
        let registry = StreamFixture.registry
        return PartitionTask.Context(
            registry: registry, engine: FeatureEngine(registry: registry), entityKinds: kinds,
            layout: ShardLayout(directory: "\(dir)/shards", topic: topic), offlineBase: "\(dir)/offline",
            rejectBase: "\(dir)/rejects", brokers: "127.0.0.1:9", owner: owner)
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
        let whole = try Self.whole(lines, partition: 3, dir: "\(dir)/whole")

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

    /// One task taking every line, its shard written: what a partition handed over must end as.
    static func whole(_ lines: [[UInt8]], partition: Int32, dir: String) throws -> PartitionTask {
        let task = try PartitionTask(partition: partition, context: context(dir))
        try take(lines[...], into: task)
        _ = try task.writeShard(layout: context(dir).layout, owner: "x")
        return task
    }

    static func encoded(_ states: StateTable) -> [[String: [UInt8]]] {
        states.tables.enumerated().map { e, table in
            table.mapValues { StateCodec.encode($0, engine: states.engine, entity: e) }
        }
    }

    /// A member that stalled past its session (a zombie) wakes up still holding a partition that
    /// another member has taken over since: it publishes nothing for it (no shard, no offline file,
    /// no offline state), and the new owner's partition ends as one task taking every line would.
    @Test func aStalledMembersPartitionIsFencedOnceTakenOver() throws {
        let lines = try Self.lines(seed: 53)
        let dir = StreamFixture.temporaryDirectory()
        let layout = Self.context(dir).layout
        let whole = try Self.whole(lines, partition: 5, dir: "\(dir)/whole")

        let zombie = try PartitionTask(partition: 5, context: Self.context(dir, owner: "zombie"))
        try Self.take(lines[..<600], into: zombie)
        #expect(try zombie.writeShard(layout: layout, owner: "zombie") == 600)
        // Folded after its last shard, then it stalls; the new owner restores that shard.
        try Self.take(lines[600..<1_000], into: zombie)
        let heir = try PartitionTask(partition: 5, context: Self.context(dir, owner: "heir"))
        #expect(heir.nextOffset == 600)
        try Self.take(lines[600...], into: heir)
        _ = try heir.writeShard(layout: layout, owner: "heir")
        let shard = try FileSystem.readBytes(layout.shardPath(partition: 5))
        let state = try FileSystem.readBytes(heir.offlineStore!.statePath)
        let files = try heir.offlineStore!.files()

        // The zombie wakes up and checkpoints.
        #expect {
            _ = try zombie.writeShard(layout: layout, owner: "zombie")
        } throws: { ($0 as? PartitionFenced).map { $0.partition == 5 && $0.holder == "heir" } ?? false }
        #expect(try FileSystem.readBytes(layout.shardPath(partition: 5)) == shard)
        #expect(try FileSystem.readBytes(heir.offlineStore!.statePath) == state)
        #expect(try heir.offlineStore!.files() == files)
        #expect(heir.counts == whole.counts && Self.encoded(heir.states) == Self.encoded(whole.states))
        let rows = try StreamFixture.offlineRows(heir.offlineStore!)
        #expect(rows == (try StreamFixture.offlineRows(whole.offlineStore!)) && !rows.isEmpty)
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
