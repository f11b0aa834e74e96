import Foundation
import FsmlCore
import Testing

@testable import Streaming

/// The lease on a partition: each take-over is a new generation, and an older holder can publish
/// nothing once it is.
struct PartitionLeaseTests {
    @Test func aNewerHolderFencesTheOlder() throws {
        let dir = StreamFixture.temporaryDirectory()
        let path = "\(dir)/shards/clicks/partition-2.lease"
        let first = try PartitionLease.acquire(path: path, partition: 2, owner: "a")
        #expect(first.generation == 1)
        var published: [String] = []
        try first.publish { published.append("a1") }
        let second = try PartitionLease.acquire(path: path, partition: 2, owner: "b")
        #expect(second.generation == 2)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "2 b\n")
        #expect {
            try first.publish { published.append("a2") }
        } throws: { ($0 as? PartitionFenced)?.holder == "b" }
        try second.publish { published.append("b1") }
        #expect(published == ["a1", "b1"])
        // A member that takes the partition back gets a generation of its own.
        #expect(try PartitionLease.acquire(path: path, partition: 2, owner: "a").generation == 3)
    }

    /// A file published through a gate that refuses is never seen, and leaves no temporary file.
    @Test func aRefusedFileIsRemoved() throws {
        let dir = StreamFixture.temporaryDirectory()
        let path = "\(dir)/shards/clicks/partition-0.lease"
        let old = try PartitionLease.acquire(path: path, partition: 0, owner: "a")
        _ = try PartitionLease.acquire(path: path, partition: 0, owner: "b")
        let writer = try FileWriter(path: "\(dir)/out.txt", atomic: true)
        writer.publishGate = { move in try old.publish(move) }
        try writer.write("hello")
        #expect(throws: PartitionFenced.self) { try writer.close() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["shards"])
    }
}
