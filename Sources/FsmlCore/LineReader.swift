import Foundation

/// Reads newline-separated records from a file, a gzip file (any number of members) or stdin,
/// handing out each line as bytes that stay valid until the next call. No String is built, so a
/// parser can run over millions of lines a second.
///
/// At the end of the input `next()` returns nil. When `follow` is set the reader keeps a partial
/// last line and can be asked again later, for a file that another process is still appending to.
public final class LineReader {
    public let path: String
    public var follow = false
    public private(set) var linesRead = 0
    public private(set) var reachedEnd = false

    private let fd: Int32
    private let ownsFD: Bool
    private var inflater: Inflater?
    private var sniffed = false
    private var gzipByName: Bool

    private var buf: UnsafeMutableRawPointer
    private var cap: Int
    private var start = 0
    private var end = 0
    private var raw: UnsafeMutableRawPointer
    private let rawCap = 1 << 20

    /// `-` reads standard input.
    public init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = 0
            ownsFD = false
        } else {
            let opened = open(path, O_RDONLY)
            guard opened >= 0 else { throw FsmlIOError.cannotOpen(path, errno) }
            fd = opened
            ownsFD = true
        }
        gzipByName = path.hasSuffix(".gz")
        cap = 1 << 21
        buf = .allocate(byteCount: cap, alignment: 16)
        raw = .allocate(byteCount: rawCap, alignment: 16)
    }

    deinit {
        if ownsFD { close(fd) }
        buf.deallocate()
        raw.deallocate()
    }

    /// The next line without its `\n` (a `\r` before it is dropped too), or nil at the end.
    public func next() throws -> UnsafeRawBufferPointer? {
        while true {
            if let nl = findNewline() {
                var lineEnd = nl
                if lineEnd > start && buf.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == 13 { lineEnd -= 1 }
                let line = UnsafeRawBufferPointer(start: buf + start, count: lineEnd - start)
                start = nl + 1
                linesRead += 1
                return line
            }
            if try fill() == 0 {
                if follow || start == end {
                    if start == end { reachedEnd = true }
                    return nil
                }
                // The last line has no newline.
                let line = UnsafeRawBufferPointer(start: buf + start, count: end - start)
                start = end
                linesRead += 1
                reachedEnd = true
                return line
            }
        }
    }

    /// Skips `count` lines (a resumed job skipping what it already processed); returns how many
    /// there were.
    @discardableResult
    public func skip(lines count: Int) throws -> Int {
        var skipped = 0
        while skipped < count, try next() != nil { skipped += 1 }
        return skipped
    }

    private func findNewline() -> Int? {
        guard end > start else { return nil }
        guard let p = memchr(buf + start, 10, end - start) else { return nil }
        return buf.distance(to: UnsafeMutableRawPointer(p))
    }

    /// Reads more input into the line buffer; returns the number of bytes added (0 at the end).
    private func fill() throws -> Int {
        // Move the partial line to the front, and grow the buffer when one line fills it.
        if start > 0 {
            if end > start { memmove(buf, buf + start, end - start) }
            end -= start
            start = 0
        }
        while true {
            let n = read(fd, raw, rawCap)
            if n < 0 {
                if errno == EINTR { continue }
                throw FsmlIOError.readFailed(path, errno)
            }
            if n == 0 {
                if let inflater, !inflater.atMemberEnd, !follow {
                    throw FsmlIOError.corrupt(path, "truncated gzip stream")
                }
                return 0
            }
            let chunk = UnsafeRawBufferPointer(start: raw, count: n)
            if !sniffed {
                sniffed = true
                if gzipByName || Gzip.isGzip(chunk) { inflater = try Inflater() }
            }
            let before = end
            if let inflater {
                do {
                    try inflater.inflate(chunk) { append($0) }
                } catch let error as GzipError {
                    throw FsmlIOError.corrupt(path, error.description)
                }
            } else {
                append(chunk)
            }
            if end > before { return end - before }
        }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) {
        if end + bytes.count > cap {
            var newCap = cap * 2
            while end + bytes.count > newCap { newCap *= 2 }
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCap, alignment: 16)
            grown.copyMemory(from: buf, byteCount: end)
            buf.deallocate()
            buf = grown
            cap = newCap
        }
        (buf + end).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        end += bytes.count
    }
}

public enum FsmlIOError: Error, CustomStringConvertible, Sendable {
    case cannotOpen(String, Int32)
    case readFailed(String, Int32)
    case writeFailed(String, Int32)
    case corrupt(String, String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let code): return "cannot open \(path): \(String(cString: strerror(code)))"
        case .readFailed(let path, let code): return "cannot read \(path): \(String(cString: strerror(code)))"
        case .writeFailed(let path, let code): return "cannot write \(path): \(String(cString: strerror(code)))"
        case .corrupt(let path, let why): return "\(path): \(why)"
        }
    }
}
