import Foundation
import FsmlCore

/// Traffic replayed at its events' own times: request items made from the lines of an events file
/// that a server's stream job has not read yet. A training example's features are those known just
/// before its event; a request for the keys of an event the stream is about to fold asks the
/// server for the same thing, so served vectors are comparable with the training set's (traffic
/// drawn from the whole file and scored at the stream's end reads windows long expired).
///
/// The stream's position is its `fsml_stream_source_lines` gauge, polled from the server's
/// /metrics; the file is read once, in order, never further ahead than `window` items.
public final class StreamFollower<Item: Sendable>: @unchecked Sendable {
    private let reader: LineReader
    private let make: (UnsafeRawBufferPointer) -> Item?
    private let window: Int
    private let lock = NSLockLite()
    /// Items of the lines not yet consumed, in file order, from `head` on.
    private var upcoming: [(line: Int, item: Item)] = []
    private var head = 0
    private var last: Item?
    private var consumed = 0
    private var polls = 0
    private var unfollowable = 0
    private var failures = 0
    private var stopped = false

    /// `make` turns a line into an item, or nil for a line that asks for no request.
    public init(
        path: String, host: String, port: Int, window: Int = 64, make: @escaping (UnsafeRawBufferPointer) -> Item?
    ) throws {
        reader = try LineReader(path: path)
        self.make = make
        self.window = max(1, window)
        let thread = Thread { [weak self] in self?.poll(host: host, port: port) }
        thread.name = "stream-follower"
        thread.start()
    }

    /// The number of lines the stream had consumed at the last poll; how many polls read it, how
    /// many found /metrics without it (a server with no stream job from a file), and how many
    /// found no server.
    public var position: (lines: Int, polls: Int, unfollowable: Int, failures: Int) {
        lock.withLock { (consumed, polls, unfollowable, failures) }
    }

    /// One of the next `window` items past the stream's position, chosen by `seed`; once the stream
    /// has passed every item of the file, the last one offered.
    public func item(_ seed: UInt64) -> Item? {
        lock.withLock {
            advance()
            let n = upcoming.count - head
            guard n > 0 else { return last }
            return upcoming[head + Int(seed % UInt64(n))].item
        }
    }

    /// Reads the file up to the stream's position now: the first read skips every line the stream
    /// has consumed (most of the file when it resumes from a checkpoint), which would otherwise
    /// hold up the first requests.
    public func catchUp() {
        lock.withLock { advance() }
    }

    public func stop() { lock.withLock { stopped = true } }

    /// Drops the items the stream has passed, then reads on until `window` items lie past its
    /// position (lines it already consumed are skipped unread).
    private func advance() {
        while head < upcoming.count && upcoming[head].line < consumed { head += 1 }
        if head > 4096 && head * 2 > upcoming.count {
            upcoming.removeFirst(head)
            head = 0
        }
        fill()
    }

    private func fill() {
        while upcoming.count - head < window {
            let line = reader.linesRead
            guard let bytes = try? reader.next() else { return }
            guard line >= consumed, let item = make(bytes) else { continue }
            upcoming.append((line, item))
            last = item
        }
    }

    private func poll(host: String, port: Int) {
        var connection: HTTPConnection?
        while !lock.withLock({ stopped }) {
            do {
                if connection == nil { connection = try HTTPConnection(host: host, port: port, timeout: 5) }
                let answer = try connection!.exchange(method: "GET", path: "/metrics", body: [])
                let lines = answer.status == 200 ? Self.sourceLines(inMetrics: answer.body) : nil
                lock.withLock {
                    if let lines {
                        consumed = max(consumed, lines)
                        polls += 1
                    } else {
                        unfollowable += 1
                    }
                }
            } catch {
                connection = nil
                lock.withLock { failures += 1 }
            }
            usleep(20_000)
        }
    }

    /// The value of the first `fsml_stream_source_lines` sample in a Prometheus text exposition.
    static func sourceLines(inMetrics body: [UInt8]) -> Int? {
        let name = "fsml_stream_source_lines"
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(name) {
            let rest = line.dropFirst(name.count)
            guard rest.first == " " || rest.first == "{", let value = rest.split(separator: " ").last else { continue }
            return Double(value).map { Int($0) }
        }
        return nil
    }
}
