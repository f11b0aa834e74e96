import Foundation
import FsmlCore

/// Where a stream job reads events: `file:PATH` (JSONL, gzip by extension), a bare path, `-` for
/// standard input, or `kafka://HOST:PORT[,HOST:PORT]/TOPIC?group=G`.
public enum SourceSpec: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case stdin
    case kafka(KafkaAddress)

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func parse(_ text: String) throws(ParseError) -> SourceSpec {
        if text == "-" { return .stdin }
        if text.hasPrefix("kafka://") { return .kafka(try KafkaAddress.parse(text)) }
        if text.hasPrefix("file:") {
            let path = String(text.dropFirst("file:".count))
            guard !path.isEmpty else { throw ParseError(description: "'\(text)' names no file") }
            return .file(path)
        }
        guard !text.contains("://") else {
            throw ParseError(
                description: "'\(text)' is not a source (file:PATH, -, or kafka://HOST:PORT/TOPIC?group=G)")
        }
        return .file(text)
    }

    public var description: String {
        switch self {
        case .file(let p): return "file:\(p)"
        case .stdin: return "-"
        case .kafka(let k): return k.description
        }
    }
}

public struct KafkaAddress: Sendable, Equatable, CustomStringConvertible {
    public var brokers: String
    public var topic: String
    public var group: String?

    public static func parse(_ text: String) throws(SourceSpec.ParseError) -> KafkaAddress {
        var rest = Substring(text.dropFirst("kafka://".count))
        var group: String?
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else {
                    throw SourceSpec.ParseError(description: "'\(pair)' is not key=value in \(text)")
                }
                if parts[0] == "group" {
                    group = String(parts[1])
                } else {
                    throw SourceSpec.ParseError(description: "unknown Kafka option '\(parts[0])' in \(text) (group=)")
                }
            }
            rest = rest[..<q]
        }
        guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex, rest.index(after: slash) < rest.endIndex
        else {
            throw SourceSpec.ParseError(
                description: "'\(text)' needs brokers and a topic: kafka://HOST:PORT/TOPIC?group=G")
        }
        return KafkaAddress(
            brokers: String(rest[..<slash]), topic: String(rest[rest.index(after: slash)...]), group: group)
    }

    public var description: String { "kafka://\(brokers)/\(topic)" + (group.map { "?group=\($0)" } ?? "") }
}

/// A stream of raw event lines with a position that checkpoints can record and restore.
public protocol EventSource: AnyObject {
    /// The next line, waiting at most `timeout` seconds; nil when none came. The bytes are valid
    /// until the next call.
    func next(timeout: Double) throws -> UnsafeRawBufferPointer?
    /// True once a bounded source has nothing more (a file read to its end with --until-end).
    var isExhausted: Bool { get }
    /// Where the next line comes from, for a checkpoint.
    var position: JSONValue { get }
    /// Where the line last returned came from, for dead-letter records: a source name and a line
    /// number (a file) or offset (a Kafka partition).
    var origin: (source: String, line: Int) { get }
    /// The partition the line last returned came from (nil: the source is one ordered stream).
    var partition: Int32? { get }
    /// The full length of the line last returned: more than its bytes when only its start was kept
    /// (a line or message over the limit).
    var lineLength: Int { get }
    /// Assignments and partitions read to their end since the last call, in order.
    func takePartitionEvents() -> [PartitionEvent]
    /// Continues from a checkpointed position.
    func restore(_ position: JSONNode) throws
    /// The data up to `position` is safely in the sinks (Kafka: commit offsets).
    func commit() throws
    func close()
}

/// What a partitioned source tells the admission about its partitions.
public enum PartitionEvent: Sendable, Equatable {
    case assigned(Set<Int32>)
    case idle(Int32)
}

/// JSON lines from a file (following it as it grows, unless `untilEnd`) or from stdin. Its
/// position is the number of lines consumed; restoring skips that many lines.
public final class FileSource: EventSource {
    private let reader: LineReader
    private let untilEnd: Bool
    private let isStdin: Bool
    public private(set) var isExhausted = false

    public init(path: String, untilEnd: Bool, maxLineBytes: Int = LineReader.defaultMaxLineBytes) throws {
        reader = try LineReader(path: path, maxLineBytes: maxLineBytes)
        reader.follow = !untilEnd
        self.untilEnd = untilEnd
        isStdin = path == "-"
    }

    public func next(timeout: Double) throws -> UnsafeRawBufferPointer? {
        if let line = try reader.next() { return line }
        if untilEnd {
            isExhausted = true
            return nil
        }
        // Following: wait for more.
        usleep(useconds_t(min(timeout, 0.05) * 1e6))
        return try reader.next()
    }

    public var position: JSONValue { .object([("lines", .int(linesRead))]) }

    /// Lines consumed, those skipped on restoring a checkpoint included.
    public var linesRead: Int { reader.linesRead }

    public var origin: (source: String, line: Int) { (isStdin ? "-" : "file:\(reader.path)", reader.linesRead) }

    public func restore(_ position: JSONNode) throws {
        guard let lines = position["lines"]?.int, lines >= 0 else {
            throw SourceError("checkpoint has no line position")
        }
        guard lines > 0 else { return }
        guard !isStdin else { throw SourceError("cannot resume standard input from a checkpoint (line \(lines))") }
        let skipped = try reader.skip(lines: lines)
        guard skipped == lines else {
            throw SourceError(
                "the checkpoint is at line \(lines) but \(reader.path) has only \(skipped); was the file replaced?")
        }
    }

    public var partition: Int32? { nil }
    public var lineLength: Int { reader.lastLineLength }
    public func takePartitionEvents() -> [PartitionEvent] { [] }
    public func commit() throws {}
    public func close() {}
}

public struct SourceError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension SourceSpec {
    /// The source of events this names: a file followed (or read to its end, `untilEnd`), stdin
    /// read to its end, or a Kafka topic read as `clientID`.
    public func open(untilEnd: Bool, clientID: String, maxLineBytes: Int) throws -> any EventSource {
        switch self {
        case .file(let path): try FileSource(path: path, untilEnd: untilEnd, maxLineBytes: maxLineBytes)
        case .stdin: try FileSource(path: "-", untilEnd: true, maxLineBytes: maxLineBytes)
        case .kafka(let address):
            try KafkaSource(address: address, untilEnd: untilEnd, clientID: clientID, maxLineBytes: maxLineBytes)
        }
    }
}
