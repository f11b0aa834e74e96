import Foundation

/// Reads newline-separated records from a file, a gzip file (any number of members) or stdin,
/// handing out each line as bytes that stay valid until the next call. No String is built, so a
/// parser can run over millions of lines a second.
///
/// At the end of the input `next()` returns nil. When `follow` is set the reader keeps a partial
/// last line and can be asked again later, for a file that another process is still appending to.
///
/// A line longer than `maxLineBytes` is not kept: its first `keptBytes` are returned, with its
/// full length in `lastLineLength`, and the rest is skipped as it is read, so that one endless
/// line costs linear time and bounded memory. A UTF-8 byte order mark opening the input is skipped.
public final class LineReader {
    public let path: String
    public var follow = false
    public private(set) var linesRead = 0
    public private(set) var reachedEnd = false
    public let maxLineBytes: Int
    /// The length of the line last returned; more than its bytes when it was cut.
    public private(set) var lastLineLength = 0
    public static let keptBytes = 1024
    /// The events' limit when fsml.yaml sets none (`events.max_line_bytes`).
    public static let defaultMaxLineBytes = 1 << 20

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
    /// [start, scanned) is known to hold no newline: a search resumes at `scanned`.
    private var scanned = 0
    /// While a line is being cut: its length so far; its kept bytes are [start, start + kept).
    private var cutLength: Int?
    private var kept = 0
    /// The cut line has ended (its newline was read).
    private var cutEnded = false
    private var bomChecked = false

    /// `-` reads standard input.
    /// `maxLineBytes`: event sources pass their schema's limit; other readers keep every line whole.
    public init(path: String, maxLineBytes: Int = .max) throws {
        self.path = path
        self.maxLineBytes = max(1, maxLineBytes)
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
            if !bomChecked && (end - start >= 3 || reachedEnd) { skipByteOrderMark() }
            if let length = cutLength, cutEnded { return takeCut(length) }
            if cutLength == nil, let nl = findNewline() {
                var lineEnd = nl
                if lineEnd > start && buf.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == 13 { lineEnd -= 1 }
                // (A whole line can arrive at once, over the limit: decompressed in one go.)
                let kept = lineEnd - start > maxLineBytes ? min(Self.keptBytes, maxLineBytes) : lineEnd - start
                let line = UnsafeRawBufferPointer(start: buf + start, count: kept)
                lastLineLength = lineEnd - start
                start = nl + 1
                scanned = start
                linesRead += 1
                return line
            }
            if cutLength == nil && end - start > maxLineBytes {
                // Too long to keep: keep its start, skip the rest as it comes.
                kept = min(Self.keptBytes, maxLineBytes)
                cutLength = end - start
                end = start + kept
                scanned = end
            }
            if try fill() == 0 {
                if !bomChecked { skipByteOrderMark() }
                if let length = cutLength { return follow ? nil : takeCut(length) }
                if follow || start == end {
                    if start == end { reachedEnd = true }
                    return nil
                }
                // The last line has no newline.
                let length = end - start
                let line = UnsafeRawBufferPointer(
                    start: buf + start, count: length > maxLineBytes ? min(Self.keptBytes, maxLineBytes) : length)
                start = end
                scanned = end
                linesRead += 1
                reachedEnd = true
                lastLineLength = length
                return line
            }
        }
    }

    /// The cut line: its kept bytes, its full length in `lastLineLength`.
    private func takeCut(_ length: Int) -> UnsafeRawBufferPointer {
        let line = UnsafeRawBufferPointer(start: buf + start, count: kept)
        start += kept
        scanned = start
        cutLength = nil
        cutEnded = false
        linesRead += 1
        lastLineLength = length
        return line
    }

    private func skipByteOrderMark() {
        bomChecked = true
        guard linesRead == 0, start == 0, end >= 3,
            buf.load(as: UInt8.self) == 0xEF, buf.load(fromByteOffset: 1, as: UInt8.self) == 0xBB,
            buf.load(fromByteOffset: 2, as: UInt8.self) == 0xBF
        else { return }
        start = 3
        scanned = 3
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
        let from = max(start, scanned)
        guard end > from else { return nil }
        guard let p = memchr(buf + from, 10, end - from) else {
            scanned = end
            return nil
        }
        return buf.distance(to: UnsafeMutableRawPointer(p))
    }

    /// Reads more input into the line buffer; returns the number of bytes added (0 at the end).
    private func fill() throws -> Int {
        // Move the partial line to the front, and grow the buffer when one line fills it.
        if start > 0 {
            if end > start { memmove(buf, buf + start, end - start) }
            end -= start
            scanned -= start
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
            let cutBefore = cutLength
            if let inflater {
                do {
                    try inflater.inflate(chunk) { append($0) }
                } catch let error as GzipError {
                    throw FsmlIOError.corrupt(path, error.description)
                }
            } else {
                append(chunk)
            }
            // Bytes of a line being cut count as progress too (they were read, not kept).
            if end > before || cutLength != cutBefore || cutEnded { return max(1, end - before) }
        }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) {
        var bytes = bytes
        if let length = cutLength, !cutEnded {
            guard let nl = memchr(bytes.baseAddress!, 10, bytes.count) else {
                cutLength = length + bytes.count
                return
            }
            let at = bytes.baseAddress!.distance(to: UnsafeRawPointer(nl))
            cutLength = length + at
            cutEnded = true
            bytes = UnsafeRawBufferPointer(rebasing: bytes[(at + 1)...])
            if bytes.isEmpty { return }
        }
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
