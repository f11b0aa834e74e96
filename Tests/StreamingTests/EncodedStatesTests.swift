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
}
