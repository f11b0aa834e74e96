import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import PointInTime
import Testing

@testable import Streaming

@Suite struct CheckpointTests {
    static func sample() -> Checkpoint {
        var admission = Admission(lateness: 600_000_000)
        _ = admission.admit(id: "e1", time: 1_000_000_000)
        _ = admission.admit(id: "e2", time: 1_000_500_000, partition: 3)
        _ = admission.admit(id: "e3", time: 900_000_000, partition: 1)
        var counts = IntakeCounts()
        counts.lines = 5
        counts.admitted = 2
        counts.deadLetters = 3
        return Checkpoint(
            runID: "20250113T000000Z", source: "file:/tmp/events.jsonl",
            position: .object([("lines", .int(5))]),
            intake: IntakeState(nextSequence: 2, admission: admission, counts: counts), deadLetterBytes: 321,
            lateBytes: 0, fingerprints: [1, 2, 3_000_000_000], entityKinds: [0, 2],
            states: [(0, "u1", [1, 2, 3]), (2, "u1\u{1F}s9", []), (0, "ünï", Array(repeating: 7, count: 300))])
    }

    @Test func roundTripsEverything() throws {
        let c = Self.sample()
        let back = try Checkpoint.decode(c.encode(), file: "x")
        #expect(back.runID == c.runID && back.source == c.source)
        #expect(JSONText.render(back.position) == JSONText.render(c.position))
        #expect(back.intake == c.intake)
        #expect(back.intake.admission.partitions?.clocks == [3: 1_000_500_000, 1: 900_000_000])
        #expect(back.intake.admission.maxLag == 100_500_000)
        #expect(back.deadLetterBytes == 321 && back.lateBytes == 0)
        #expect(back.fingerprints == c.fingerprints && back.entityKinds == [0, 2])
        #expect(back.states.map(\.entity) == [0, 2, 0])
        #expect(back.states.map(\.key) == ["u1", "u1\u{1F}s9", "ünï"])
        #expect(back.states.map(\.blob) == c.states.map(\.blob))
    }

    /// Written to a file a megabyte at a time, states of several megabytes read back whole, and
    /// the CRC taken piece by piece equals the one over all the bytes.
    @Test func aLargeCheckpointIsWrittenInPieces() throws {
        var c = Self.sample()
        var rng = SeededRandom(seed: 2)
        c.states = (0..<3000).map { i in
            (i % 3, "key-\(i)", (0..<(rng.below(3000))).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-ckp-\(UUID()).checkpoint").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try c.write(states: EncodedList(states: c.states), to: path)
        let bytes = try FileSystem.readBytes(path)
        #expect(bytes.count > 3 << 20)
        let back = try Checkpoint.decode(bytes, file: path)
        #expect(back.states.map(\.key) == c.states.map(\.key) && back.states.map(\.blob) == c.states.map(\.blob))
        let body = Array(bytes.dropLast(4))
        let pieces = body.withUnsafeBytes { b in
            CRC32.update(
                CRC32.of(UnsafeRawBufferPointer(rebasing: b[..<12345])), UnsafeRawBufferPointer(rebasing: b[12345...]))
        }
        #expect(pieces == CRC32.of(body))
    }

    @Test func everyDamagedByteIsCaught() throws {
        let bytes = Self.sample().encode()
        // Flipping any one byte fails the magic or the CRC.
        for i in stride(from: 0, to: bytes.count, by: 7) {
            var damaged = bytes
            damaged[i] ^= 0x40
            #expect(throws: CheckpointError.self) { try Checkpoint.decode(damaged, file: "c") }
        }
        #expect { try Checkpoint.decode(Array(bytes.dropLast(9)), file: "cp") } throws: {
            "\($0)".hasPrefix("cp: ")
        }
        #expect { try Checkpoint.decode(Array("not a checkpoint at all".utf8), file: "cp") } throws: {
            "\($0)" == "cp: not an fsml checkpoint"
        }
    }
}

/// States as a stream job hands them to a checkpoint.
struct EncodedList: CheckpointStates {
    let states: [(entity: Int, key: String, blob: [UInt8])]
    var count: Int { states.count }
    var byteCount: Int { states.reduce(0) { $0 + $1.key.utf8.count + $1.blob.count } }
    func forEach(_ body: (Int, String, [UInt8]) -> Void) {
        for s in states { body(s.entity, s.key, s.blob) }
    }
}

@Suite struct SourceSpecTests {
    @Test func parsesEveryForm() throws {
        #expect(try SourceSpec.parse("-") == .stdin)
        #expect(try SourceSpec.parse("file:data/e.jsonl.gz") == .file("data/e.jsonl.gz"))
        #expect(try SourceSpec.parse("data/e.jsonl") == .file("data/e.jsonl"))
        let k = try SourceSpec.parse("kafka://127.0.0.1:9092,127.0.0.1:9093/events?group=g1")
        #expect(k == .kafka(KafkaAddress(brokers: "127.0.0.1:9092,127.0.0.1:9093", topic: "events", group: "g1")))
        #expect(k.description == "kafka://127.0.0.1:9092,127.0.0.1:9093/events?group=g1")
        #expect(try SourceSpec.parse("kafka://h:1/t") == .kafka(KafkaAddress(brokers: "h:1", topic: "t", group: nil)))
    }

    @Test func rejectsWhatIsNotASource() {
        for bad in [
            "file:", "kafka://h:1", "kafka:///t", "kafka://h:1/t?grp=x", "kafka://h:1/t?group", "s3://bucket/x",
        ] {
            #expect(throws: SourceSpec.ParseError.self) { try SourceSpec.parse(bad) }
        }
    }
}
