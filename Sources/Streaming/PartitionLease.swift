import Foundation
import FsmlCore

/// Thrown when a member finds that another member has taken its partition over: what it would
/// have published for the partition is dropped, as if it had died at its last shard.
public struct PartitionFenced: Error, CustomStringConvertible {
    public let partition: Int32
    public let holder: String

    public var description: String {
        "partition \(partition) is held by \(holder) now: this member stalled past its session and publishes nothing more for it"
    }
}

/// Who holds a partition, as a generation number in `<shards>/<topic>/partition-<p>.lease`.
/// Taking a partition over raises the generation under an exclusive lock before its shard is read;
/// every file the holder publishes for the partition (its shard, an offline file, the offline
/// store's state) is moved into place under the same lock, and only while the generation is still
/// the holder's. A member that stalled past its session timeout (a paused VM: a "zombie") and
/// wakes up finds a newer generation and publishes nothing: the new owner's files are never
/// overwritten, and what the zombie folded after its last shard is dropped (the new owner folds
/// it again). The lock is `flock(2)`, which local disks and NFS both honour, and which the kernel
/// releases when a holder dies.
final class PartitionLease: Sendable {
    let path: String
    let partition: Int32
    let generation: Int64

    private init(path: String, partition: Int32, generation: Int64) {
        self.path = path
        self.partition = partition
        self.generation = generation
    }

    /// Takes the partition over for `owner`: the next generation.
    static func acquire(path: String, partition: Int32, owner: String) throws -> PartitionLease {
        try FileSystem.createDirectories(forFile: path)
        return try locked(path) { fd, current in
            let next = current.generation + 1
            let text = Array("\(next) \(owner)\n".utf8)
            guard ftruncate(fd, 0) == 0,
                text.withUnsafeBytes({ pwrite(fd, $0.baseAddress, $0.count, 0) }) == text.count,
                fsync(fd) == 0
            else { throw FsmlIOError.writeFailed(path, errno) }
            return PartitionLease(path: path, partition: partition, generation: next)
        }
    }

    /// Runs `publish` while the partition is still this lease's, holding the lock throughout;
    /// throws `PartitionFenced` (running nothing) once another member has taken it over.
    func publish(_ publish: () throws -> Void) throws {
        try Self.locked(path) { _, current in
            guard current.generation == generation else {
                throw PartitionFenced(partition: partition, holder: current.holder)
            }
            try publish()
        }
    }

    /// The lease file's generation and holder (0 and "" for a new file), under its exclusive lock.
    private static func locked<T>(
        _ path: String, _ body: (Int32, (generation: Int64, holder: String)) throws -> T
    )
        throws -> T
    {
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw FsmlIOError.cannotOpen(path, errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw FsmlIOError.cannotOpen(path, errno) }
        }
        var bytes = [UInt8](repeating: 0, count: 512)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        let text = n > 0 ? String(decoding: bytes[..<n], as: UTF8.self) : ""
        let parts = text.split(separator: " ", maxSplits: 1)
        let generation = parts.first.flatMap { Int64($0) } ?? 0
        let holder = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespacesAndNewlines) : ""
        return try body(fd, (generation, holder))
    }
}
