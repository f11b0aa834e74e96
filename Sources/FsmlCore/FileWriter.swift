import Foundation

/// A buffered file writer over a raw descriptor. With `atomic`, bytes go to a temporary file beside
/// the target that `close()` fsyncs and renames into place, so a reader never sees half a file and
/// a crash leaves the old file whole.
public final class FileWriter {
    public let path: String
    private let writePath: String
    private let atomic: Bool
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let flushAt = 1 << 20
    public private(set) var bytesWritten: Int = 0
    /// When set, the SHA-256 of every byte written from then on (a dataset's, for its manifest,
    /// without reading the file back).
    public var digest: SHA256?
    /// With `atomic`: runs the move into place, or throws instead (the temporary file is then
    /// removed): a writer whose right to publish can be taken away (a consumer group's partition).
    public var publishGate: (@Sendable (_ move: () throws -> Void) throws -> Void)?

    public init(path: String, atomic: Bool = false, append: Bool = false) throws {
        self.path = path
        self.atomic = atomic
        writePath = atomic ? "\(path).tmp-\(getpid())" : path
        try FileSystem.createDirectories(forFile: path)
        if atomic { Self.removeAbandoned(of: path) }
        let flags = O_WRONLY | O_CREAT | (append && !atomic ? O_APPEND : O_TRUNC)
        fd = open(writePath, flags, 0o644)
        guard fd >= 0 else { throw FsmlIOError.cannotOpen(writePath, errno) }
        buffer.reserveCapacity(flushAt + 4096)
    }

    /// Removes temporary files a killed writer of `path` left (`path.tmp-PID` of a process that is
    /// gone): a SIGKILL leaves no chance to clean up, so the next writer does.
    static func removeAbandoned(of path: String) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink("\(dir)/\(name)") }
        }
    }

    deinit {
        if fd >= 0 {
            Foundation.close(fd)
            if atomic { unlink(writePath) }  // never finished: the old file stays
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > flushAt { try flush() }
        if bytes.count >= flushAt {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    public func write(_ text: String) throws {
        var t = text
        try t.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Forces written bytes to disk.
    public func sync() throws {
        try flush()
        guard fsync(fd) == 0 else { throw FsmlIOError.writeFailed(writePath, errno) }
    }

    public func close() throws {
        guard fd >= 0 else { return }
        try flush()
        if atomic { try sync() }
        Foundation.close(fd)
        fd = -1
        guard atomic else { return }
        let (from, to) = (writePath, path)
        func move() throws {
            guard rename(from, to) == 0 else { throw FsmlIOError.writeFailed(to, errno) }
            FileSystem.syncDirectory(of: to)
        }
        guard let publishGate else { return try move() }
        do {
            try publishGate(move)
        } catch {
            unlink(writePath)
            throw error
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FsmlIOError.writeFailed(writePath, errno)
            }
            offset += n
        }
        digest?.update(bytes)
        bytesWritten += bytes.count
    }
}

public enum FileSystem {
    public static func createDirectories(forFile path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try createDirectory(dir) }
    }

    public static func createDirectory(_ dir: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw FsmlIOError.writeFailed(dir, EACCES)
        }
    }

    public static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    public static func fileSize(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    /// Writes a whole file atomically (temporary file, fsync, rename).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let w = try FileWriter(path: path, atomic: true)
        try w.write(bytes)
        try w.close()
    }

    public static func writeAtomically(_ text: String, to path: String) throws {
        try writeAtomically(Array(text.utf8), to: path)
    }

    public static func readBytes(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FsmlIOError.cannotOpen(path, FileSystem.exists(path) ? EACCES : ENOENT)
        }
        return [UInt8](data)
    }

    public static func readText(_ path: String) throws -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    /// Makes a rename durable by syncing its directory.
    static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            Foundation.close(fd)
        }
    }
}
