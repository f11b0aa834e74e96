import FsmlCore
import OfflineStorage

/// Where a consumer group keeps what moves with a partition. A shard is the partition's whole
/// stream-job state: its next offset, its intake (watermark, recent event ids, counts), the entity
/// states folded from its events and the sizes of its reject logs. The shard directory, and the
/// offline and reject directories beside it, are shared by every member (a network file system or
/// one machine's disk): whichever member holds a partition reads and writes its files, one at a time.
///
///     <shards>/<topic>/partition-<p>.checkpoint          the shard (a `Checkpoint`)
///     <shards>/<topic>/partition-<p>.lease               who holds it (a `PartitionLease`)
///     <offline>/partition-<p>/                           the partition's offline store
///
/// Entities are routed to partitions by the message key, so the states of a partition are the ones
/// folded from its events: no hashing of entity keys is needed, and none could know the producer's
/// partitioner.
public struct ShardLayout: Sendable, Equatable {
    public let directory: String
    public let topic: String

    public init(directory: String, topic: String) {
        self.directory = directory
        self.topic = topic
    }

    public var topicDirectory: String { "\(directory)/\(Self.safe(topic))" }

    public func shardPath(partition: Int32) -> String { "\(topicDirectory)/\(Self.shardName(partition))" }

    public static func shardName(_ partition: Int32) -> String { "partition-\(partition).checkpoint" }

    /// The partition's lease: its holder's generation (`PartitionLease`).
    public func leasePath(partition: Int32) -> String { "\(topicDirectory)/partition-\(partition).lease" }

    /// The partition a shard file name is for; nil for any other file (a temporary one, say).
    public static func partition(ofShard name: String) -> Int32? {
        guard name.hasPrefix("partition-"), name.hasSuffix(".checkpoint") else { return nil }
        let digits = name.dropFirst("partition-".count).dropLast(".checkpoint".count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int32(digits)
    }

    /// The partition's own offline store (or reject directory) under a shared base directory: its
    /// sequence numbers and decisions are the partition's, whichever member wrote them.
    public static func partitionDirectory(base: String, partition: Int32) -> String {
        OfflineStore.memberDirectory(base: base, partition: Int(partition))
    }

    /// The name a partition's shard records as its source: the same for every member of the group.
    public var sourceName: String { "kafka topic \(topic)" }

    /// A topic name as one path component (Kafka allows letters, digits, '.', '_' and '-' only,
    /// but a shard directory should not trust that).
    static func safe(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" })
    }
}

/// Where a shard's partition stands: the `position` a shard (a `Checkpoint`) records.
public struct ShardPosition: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    /// The offset of the next message to fold.
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var json: JSONValue {
        .object([("topic", .string(topic)), ("partition", .int(Int(partition))), ("offset", .int(Int(offset)))])
    }

    /// The position a shard recorded; nil when it is not one (a stream job's own checkpoint, say).
    public init?(_ value: JSONValue) {
        guard case .object(let fields) = value else { return nil }
        var topic: String?
        var partition: Int?
        var offset: Int?
        for (name, v) in fields {
            switch (name, v) {
            case ("topic", .string(let s)): topic = s
            case ("partition", .int(let i)): partition = i
            case ("offset", .int(let i)): offset = i
            default: continue
            }
        }
        guard let topic, let partition, let p = Int32(exactly: partition), let offset, offset >= 0 else { return nil }
        self.init(topic: topic, partition: p, offset: Int64(offset))
    }
}
