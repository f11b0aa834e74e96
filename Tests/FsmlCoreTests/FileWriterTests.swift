import Foundation
import Testing

@testable import FsmlCore

@Suite struct FileWriterTests {
    /// A writer killed before its rename leaves `path.tmp-PID`; the next writer of the same path
    /// removes it (when that process is gone), and never another live process's file.
    @Test func abandonedTemporaryFilesAreRemovedByTheNextWriter() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-fw-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/data.parquet"
        // A pid no process has (beyond the kernel's pid_max).
        let dead = "\(path).tmp-\(Int32.max)"
        let alive = "\(path).tmp-\(getppid())"
        let other = "\(dir)/other.parquet.tmp-\(Int32.max)"
        for p in [dead, alive, other] { FileManager.default.createFile(atPath: p, contents: Data([1])) }
        try FileSystem.writeAtomically("done", to: path)
        #expect(try FileSystem.readText(path) == "done")
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: alive) && FileManager.default.fileExists(atPath: other))
    }
}
