import FeatureCore
import FsmlCore
import OfflineStorage

/// Everything a restarted stream job needs to carry on as if it had never stopped: the source
/// position, the intake state (sequence, admission, counts), the size of its reject logs, and every
/// entity state. Written atomically (temporary file, fsync, rename); a CRC guards the content and
/// the entity plans' fingerprints refuse a checkpoint written under other feature definitions.
///
/// Layout: "FSMLCKP1", a 4-byte header length, the header (JSON), a 4-byte state count, then per
/// state: entity (1 byte), key length (4), key, state length (4), state (StateCodec bytes); last,
/// the CRC-32 of all that.
public struct Checkpoint {
    /// Names the job's reject logs, which a resumed job keeps appending to.
    public var runID: String
    public var source: String
    public var position: JSONValue
    public var intake: IntakeState
    public var deadLetterBytes: Int
    public var lateBytes: Int
    public var fingerprints: [UInt32]
    public var entityKinds: [Int]
    public var states: [(entity: Int, key: String, blob: [UInt8])]

    static let magic = Array("FSMLCKP1".utf8)

    public static func fileName(_ name: String) -> String { "\(name).checkpoint" }

    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        // Appending to an array cannot fail.
        try! encode(states: StateList(states: states)) { out.append(contentsOf: $0) }
        return out
    }

    /// Writes the checkpoint with `states` in place of `self.states` to `path`, atomically: the
    /// stream job's states go from where it keeps them to the file a megabyte at a time, never
    /// through one buffer of them all (which cost a fresh gigabyte of pages per checkpoint).
    func write(states: some CheckpointStates, to path: String) throws {
        let file = try FileWriter(path: path, atomic: true)
        try encode(states: states) { try file.write($0) }
        try file.close()
    }

    /// The checkpoint's bytes in order, given to `sink` in pieces of about a megabyte.
    func encode(states: some CheckpointStates, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let header: JSONValue = .object([
            ("format_version", .int(1)), ("written_at", .string(Timestamp.format(wallClockMicros()))),
            ("run_id", .string(runID)), ("source", .string(source)), ("position", position), ("intake", intake.json()),
            ("dead_letter_bytes", .int(deadLetterBytes)), ("late_bytes", .int(lateBytes)),
            ("fingerprints", .array(fingerprints.map { .int(Int($0)) })),
            ("entity_kinds", .array(entityKinds.map { .int($0) })),
        ])
        let piece = 1 << 20
        var out = Self.magic
        out.reserveCapacity(piece + (1 << 16))
        var crc: UInt32 = 0
        func emit() throws {
            try out.withUnsafeBytes { bytes in
                crc = CRC32.update(crc, bytes)
                try sink(bytes)
            }
            out.removeAll(keepingCapacity: true)
        }
        let text = Array(JSONText.render(header, indent: nil).utf8)
        Self.put32(UInt32(text.count), &out)
        out += text
        Self.put32(UInt32(states.count), &out)
        try states.forEachRecordRun { run in
            if run.count >= piece {
                // A long run goes to the sink as it is, without a copy.
                if !out.isEmpty { try emit() }
                crc = CRC32.update(crc, run)
                try sink(run)
            } else {
                out.append(contentsOf: run)
                if out.count >= piece { try emit() }
            }
        }
        try emit()
        Self.put32(crc, &out)
        try out.withUnsafeBytes { try sink($0) }
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> Checkpoint {
        func fail(_ why: String) -> CheckpointError { CheckpointError(description: "\(file): \(why)") }
        guard bytes.count >= 16, Array(bytes[0..<8]) == magic else { throw fail("not an fsml checkpoint") }
        let body = bytes.count - 4
        let stored = read32(bytes, body)
        let crc = bytes.withUnsafeBytes { CRC32.of(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }
        guard stored == crc else { throw fail("corrupt (CRC mismatch)") }
        var i = 8
        func take32() throws -> Int {
            guard i + 4 <= body else { throw fail("truncated") }
            defer { i += 4 }
            return Int(read32(bytes, i))
        }
        let headerLength = try take32()
        guard i + headerLength <= body else { throw fail("truncated header") }
        let header = try JSONParser.parse(Array(bytes[i..<i + headerLength]))
        i += headerLength
        guard header["format_version"]?.int == 1, let intakeNode = header["intake"], let position = header["position"],
            let runID = header["run_id"]?.string, let kinds = header["entity_kinds"]?.array
        else {
            throw fail("unsupported or incomplete header")
        }
        var states: [(entity: Int, key: String, blob: [UInt8])] = []
        let count = try take32()
        states.reserveCapacity(count)
        for _ in 0..<count {
            guard i < body else { throw fail("truncated states") }
            let entity = Int(bytes[i])
            i += 1
            let keyLength = try take32()
            guard i + keyLength <= body else { throw fail("truncated states") }
            let key = String(decoding: bytes[i..<i + keyLength], as: UTF8.self)
            i += keyLength
            let blobLength = try take32()
            guard i + blobLength <= body else { throw fail("truncated states") }
            states.append((entity, key, Array(bytes[i..<i + blobLength])))
            i += blobLength
        }
        return Checkpoint(
            runID: runID, source: header["source"]?.string ?? "", position: value(position),
            intake: try IntakeState.parse(intakeNode, file: file),
            deadLetterBytes: header["dead_letter_bytes"]?.int ?? 0, lateBytes: header["late_bytes"]?.int ?? 0,
            fingerprints: (header["fingerprints"]?.array ?? []).compactMap { $0.int.map { UInt32($0) } },
            entityKinds: kinds.compactMap(\.int), states: states)
    }

    static func put32(_ v: UInt32, _ out: inout [UInt8]) {
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * k))) }
    }

    static func read32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    /// A parsed JSON node as a value to write again.
    static func value(_ node: JSONNode) -> JSONValue {
        switch node {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let text): return Int(text).map { JSONValue.int($0) } ?? .number(Double(text) ?? 0)
        case .string(let s): return .string(s)
        case .array(let a): return .array(a.map(value))
        case .object(let o): return .object(o.map { ($0.0, value($0.1)) })
        }
    }
}

/// The states a checkpoint writes, read where they are kept.
protocol CheckpointStates {
    var count: Int { get }
    /// The bytes of every key and state.
    var byteCount: Int { get }
    func forEach(_ body: (_ entity: Int, _ key: String, _ blob: [UInt8]) -> Void)
    /// The states' records (entity, key length, key, state length, state), in runs of any length.
    func forEachRecordRun(_ body: (UnsafeRawBufferPointer) throws -> Void) throws
}

extension CheckpointStates {
    func forEachRecordRun(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var failure: (any Error)?
        var record: [UInt8] = []
        forEach { entity, key, blob in
            guard failure == nil else { return }
            record.removeAll(keepingCapacity: true)
            record.append(UInt8(entity))
            Checkpoint.put32(UInt32(key.utf8.count), &record)
            record += key.utf8
            Checkpoint.put32(UInt32(blob.count), &record)
            record += blob
            do { try record.withUnsafeBytes(body) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

/// A decoded checkpoint's states, to write again.
private struct StateList: CheckpointStates {
    let states: [(entity: Int, key: String, blob: [UInt8])]
    var count: Int { states.count }
    var byteCount: Int { states.reduce(0) { $0 + $1.key.utf8.count + $1.blob.count } }
    func forEach(_ body: (Int, String, [UInt8]) -> Void) {
        for s in states { body(s.entity, s.key, s.blob) }
    }
}

public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
