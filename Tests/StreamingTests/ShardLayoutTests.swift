import FsmlCore
import Testing

@testable import Streaming

struct ShardLayoutTests {
    @Test func aShardIsNamedByItsPartitionUnderItsTopic() {
        let layout = ShardLayout(directory: "/shared/shards", topic: "clicks")
        #expect(layout.shardPath(partition: 7) == "/shared/shards/clicks/partition-7.checkpoint")
        #expect(ShardLayout.partitionDirectory(base: "/shared/offline", partition: 3) == "/shared/offline/partition-3")
        #expect(layout.sourceName == "kafka topic clicks")
    }

    @Test func onlyShardFileNamesParseToPartitions() {
        #expect(ShardLayout.partition(ofShard: "partition-0.checkpoint") == 0)
        #expect(ShardLayout.partition(ofShard: "partition-12.checkpoint") == 12)
        #expect(ShardLayout.partition(ofShard: "partition-12.checkpoint.tmp-123") == nil)
        #expect(ShardLayout.partition(ofShard: "partition-.checkpoint") == nil)
        #expect(ShardLayout.partition(ofShard: "partition-x1.checkpoint") == nil)
        #expect(ShardLayout.partition(ofShard: "stream.checkpoint") == nil)
        for p: Int32 in [0, 1, 9, 255] {
            #expect(ShardLayout.partition(ofShard: ShardLayout.shardName(p)) == p)
        }
    }

    @Test func aTopicNameIsOnePathComponent() {
        #expect(ShardLayout(directory: "d", topic: "a/../b").topicDirectory == "d/a_.._b")
        #expect(ShardLayout(directory: "d", topic: "clicks.v2-eu_1").topicDirectory == "d/clicks.v2-eu_1")
    }
}

struct ShardPositionTests {
    @Test func aPositionRoundTripsAndOnlyAPositionParses() {
        let position = ShardPosition(topic: "clicks", partition: 5, offset: 1_234)
        #expect(ShardPosition(position.json) == position)
        // A stream job's own checkpoint records a file position or a map of offsets: not a shard's.
        #expect(ShardPosition(.object([("lines", .int(7))])) == nil)
        #expect(ShardPosition(.object([("topic", .string("t")), ("offsets", .object([]))])) == nil)
        #expect(ShardPosition(.object([("topic", .string("t")), ("partition", .int(1)), ("offset", .int(-1))])) == nil)
        #expect(ShardPosition(.string("x")) == nil)
    }
}
