import Foundation
import FsmlCore
import OfflineStorage

/// Where a consumer group stands, read from its shards: per partition the next offset, the
/// counts and the member that wrote the shard last. The group's exact totals (a member's own report
/// counts again what it re-read after a handover), and what tests and scripts wait on.
public struct GroupProgress: Sendable, Equatable {
    public struct Partition: Sendable, Equatable {
        public var offset: Int64
        public var counts: IntakeCounts
        public var owner: String
        public var states: Int
    }

    public var partitions: [Int32: Partition] = [:]

    public init() {}

    /// Reads every shard of `layout`; a shard being replaced is read whole or not at all (the
    /// writer renames a complete file into place).
    public static func read(_ layout: ShardLayout) throws -> GroupProgress {
        var progress = GroupProgress()
        guard FileSystem.isDirectory(layout.topicDirectory) else { return progress }
        for name in try FileManager.default.contentsOfDirectory(atPath: layout.topicDirectory).sorted() {
            guard let p = ShardLayout.partition(ofShard: name) else { continue }
            let path = "\(layout.topicDirectory)/\(name)"
            let shard = try Checkpoint.decode(try FileSystem.readBytes(path), file: path)
            progress.partitions[p] = Partition(
                offset: ShardPosition(shard.position)?.offset ?? 0, counts: shard.intake.counts, owner: shard.runID,
                states: shard.states.count)
        }
        return progress
    }

    /// The counts of every partition together.
    public var counts: IntakeCounts { partitions.values.reduce(IntakeCounts()) { $0.plus($1.counts) } }

    /// The next offset of every partition together: how many messages the group has taken for good.
    public var offsets: Int64 { partitions.values.reduce(0) { $0 + $1.offset } }

    public var owners: Set<String> { Set(partitions.values.map(\.owner)) }
}
