import Foundation
import FsmlCore
import Testing

@testable import Streaming

/// The bytes a checkpoint writes: the latest of each state, none of the forgotten or evicted ones.
@Suite struct EncodedStatesTests {
    static func held(_ encoded: EncodedStates) -> [String] {
        var out: [String] = []
        encoded.forEach { entity, key, blob in out.append("\(entity)/\(key)=\(blob)") }
        return out.sorted()
    }

    @Test func theLatestBytesOfEachHeldStateAndNothingElse() {
        var encoded = EncodedStates(entityCount: 3)
        encoded.set(entity: 0, id: 0, key: "u1", [1])
        encoded.set(entity: 0, id: 0, key: "u1", [2])
        encoded.set(entity: 0, id: 1, key: "u2", [3])
        encoded.set(entity: 2, id: 5, key: "p1", [4, 4])
        encoded.set(entity: 2, id: 2, key: "p2", [5])
        encoded.set(entity: 2, id: 2, key: "p2", nil)
        encoded.set(entity: 1, id: 9, key: "never", nil)
        encoded.remove([[(1, "u2")], [], []])
        #expect(encoded.count == 2)
        #expect(Self.held(encoded) == ["0/u1=[2]", "2/p1=[4, 4]"])
        #expect(encoded.stateBytes == 3)
        #expect(encoded.byteCount == 3 + 4)
        // An evicted key's id given to another key: the new key's bytes, not the old one's.
        encoded.set(entity: 0, id: 1, key: "u3", [6])
        #expect(Self.held(encoded) == ["0/u1=[2]", "0/u3=[6]", "2/p1=[4, 4]"])
        #expect(encoded.count == 3)
        #expect(encoded.byteCount == 4 + 6)
    }

    /// States replaced over and over (their old bytes reclaimed many times over), then written to a
    /// checkpoint: what it holds is the latest bytes of each, as a list of them would write.
    @Test func replacedStatesLeaveOnlyTheirLatestBytesInACheckpoint() throws {
        var encoded = EncodedStates(entityCount: 2)
        var latest: [String: (entity: Int, key: String, blob: [UInt8])] = [:]
        for round in 0..<40 {
            for i in 0..<2_000 where (i + round) % 3 != 0 {
                let e = i % 2
                let key = "key-\(i)-\(String(repeating: "x", count: i % 17))"
                let blob = (0..<(20 + (i * round) % 90)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i &+ round) }
                encoded.set(entity: e, id: Int32(i), key: key, blob)
                latest[key] = (e, key, blob)
            }
            if round % 10 == 9 {
                let gone = (0..<2_000).filter { $0 % 11 == round % 11 }
                encoded.remove([
                    gone.filter { $0 % 2 == 0 }.map { (id: Int32($0), key: "") },
                    gone.filter { $0 % 2 == 1 }.map { (id: Int32($0), key: "") },
                ])
                for i in gone { latest["key-\(i)-\(String(repeating: "x", count: i % 17))"] = nil }
            }
        }
        let expected = latest.values.map { "\($0.entity)/\($0.key)=\($0.blob)" }.sorted()
        #expect(Self.held(encoded) == expected)
        #expect(encoded.count == latest.count)
        #expect(encoded.stateBytes == latest.values.reduce(0) { $0 + $1.blob.count })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-encoded-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CheckpointTests.sample().write(states: encoded, to: path)
        let back = try Checkpoint.decode(try FileSystem.readBytes(path), file: path)
        #expect(back.states.map { "\($0.entity)/\($0.key)=\($0.blob)" }.sorted() == expected)
    }
}
