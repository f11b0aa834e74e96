import FeatureCore
import Foundation
import FsmlCore

/// JSON lines for what was not admitted: dead letters (lines that are not valid events, with the
/// reason and the raw line) and late events (valid, but older than the watermark). Nothing is
/// dropped silently.
public final class RejectLog {
    public let directory: String
    private var writer: FileWriter?
    private let name: String
    public private(set) var records = 0

    /// `name` identifies the writer's file in the directory (several runs append side by side).
    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    public var path: String { "\(directory)/\(name).jsonl" }

    /// Bytes in the log so far (for a checkpoint).
    public var bytes: Int {
        (try? writer?.flush()).map { _ in FileSystem.fileSize(path) ?? 0 } ?? (FileSystem.fileSize(path) ?? 0)
    }

    /// Cuts the log back to `bytes` (what a checkpoint recorded): lines logged after it would be
    /// logged again by the replay.
    public func truncate(to bytes: Int) throws {
        try writer?.close()
        writer = nil
        guard FileSystem.exists(path) else { return }
        guard Foundation.truncate(path, off_t(bytes)) == 0 else { throw FsmlIOError.writeFailed(path, errno) }
    }

    private func open() throws -> FileWriter {
        if let writer { return writer }
        let w = try FileWriter(path: path, append: true)
        writer = w
        return w
    }

    /// A line that could not be parsed or validated.
    public func deadLetter(reason: String, raw: UnsafeRawBufferPointer, source: String, line: Int) throws {
        var out: [UInt8] = Array(#"{"reason":"#.utf8)
        JSONText.appendQuoted(reason, to: &out)
        out += Array(#","source":"#.utf8)
        JSONText.appendQuoted(source, to: &out)
        out += Array(",\"line\":\(line),".utf8)
        out += Array(#""received_at":""#.utf8)
        Timestamp.append(wallClockMicros(), to: &out)
        out += Array("\",".utf8)
        Self.appendRaw(raw, to: &out)
        out += Array("}\n".utf8)
        try open().write(out)
        records += 1
    }

    /// An event older than the watermark when it arrived.
    public func late(
        event: Event, schema: EventSchema, watermark: Micros, raw: UnsafeRawBufferPointer?, source: String, line: Int
    ) throws {
        var out: [UInt8] = Array(#"{"event_id":"#.utf8)
        JSONText.appendQuoted(event.id(in: schema), to: &out)
        out += Array(#","event_time":""#.utf8)
        Timestamp.append(event.time, to: &out)
        out += Array(#"","watermark":""#.utf8)
        Timestamp.append(watermark, to: &out)
        out += Array(#"","source":"#.utf8)
        JSONText.appendQuoted(source, to: &out)
        out += Array(",\"line\":\(line)".utf8)
        if let raw {
            out += Array(",".utf8)
            Self.appendRaw(raw, to: &out)
        }
        out += Array("}\n".utf8)
        try open().write(out)
        records += 1
    }

    /// The raw line as a JSON string, or in base64 when it is not valid UTF-8.
    static func appendRaw(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if let text = String(validating: raw, as: UTF8.self) {
            out += Array(#""raw":"#.utf8)
            JSONText.appendQuoted(text, to: &out)
        } else {
            out += Array(#""raw_base64":""#.utf8)
            out += Array(Data(raw).base64EncodedString().utf8)
            out += Array("\"".utf8)
        }
    }

    public func flush() throws { try writer?.flush() }

    public func sync() throws { try writer?.sync() }

    public func close() throws {
        try writer?.close()
        writer = nil
    }
}
