import FeatureCore
import FsmlCore
import OfflineStorage
import Testing

@testable import Streaming

struct GroupProgressTests {
    @Test func theShardsSayWhereTheGroupStands() throws {
        let dir = StreamFixture.temporaryDirectory()
        let context = PartitionTaskTests.context(dir)
        #expect(try GroupProgress.read(context.layout) == GroupProgress())
        let lines = try PartitionTaskTests.lines(seed: 53)
        var counts = IntakeCounts()
        for (p, slice) in [(Int32(0), lines[..<300]), (5, lines[300..<800])] {
            let task = try PartitionTask(partition: p, context: context)
            try PartitionTaskTests.take(slice, into: task)
            _ = try task.writeShard(layout: context.layout, owner: "m\(p)")
            counts = counts.plus(task.counts)
        }
        // Not a shard: ignored.
        try FileSystem.writeAtomically("x", to: "\(context.layout.topicDirectory)/notes.txt")
        let progress = try GroupProgress.read(context.layout)
        #expect(progress.partitions.keys.sorted() == [0, 5])
        #expect(progress.partitions[5]?.offset == 800 && progress.offsets == 1_100)
        #expect(progress.counts == counts && progress.counts.lines == 800)
        #expect(progress.owners == ["m0", "m5"])
    }

    @Test func countsAddUp() {
        var a = IntakeCounts()
        a.lines = 5
        a.admitted = 3
        a.late = 1
        a.deadLetters = 1
        var b = IntakeCounts()
        b.lines = 2
        b.duplicates = 2
        b.waiting = 1
        let sum = a.plus(b)
        #expect(sum.lines == 7 && sum.admitted == 3 && sum.late == 1 && sum.duplicates == 2)
        #expect(sum.deadLetters == 1 && sum.waiting == 1)
    }
}
