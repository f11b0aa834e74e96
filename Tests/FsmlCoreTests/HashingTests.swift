import FsmlCore
import Testing

@Suite struct HashingTests {
    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hex(of: String(repeating: "a", count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func stableHashIsFixedAcrossRunsAndReleases() {
        // Stored in serialized state: these values must never change.
        #expect(StableHash.hex(StableHash.hash("")) == "efd01f60ba992926")
        #expect(StableHash.hex(StableHash.hash("sku_12345")) == "1f8bbac345b912d1")
        #expect(StableHash.hex(StableHash.hash("u_10293")) == "e72a848c0d01475b")
    }

    @Test func seededRandomRepeatsItsSequence() {
        var a = SeededRandom(seed: 7, stream: 3)
        var b = SeededRandom(seed: 7, stream: 3)
        var c = SeededRandom(seed: 7, stream: 4)
        let xs = (0..<100).map { _ in a.next() }
        #expect(xs == (0..<100).map { _ in b.next() })
        #expect(xs != (0..<100).map { _ in c.next() })
        var r = SeededRandom(seed: 1)
        let draws = (0..<100_000).map { _ in r.uniform() }
        #expect(draws.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = draws.reduce(0, +) / Double(draws.count)
        #expect(abs(mean - 0.5) < 0.01)
    }

    @Test func parallelMapKeepsIndexOrderWhateverTheThreads() {
        let one = Parallel.map(1000, threads: 1) { $0 * $0 }
        let four = Parallel.map(1000, threads: 4) { $0 * $0 }
        #expect(one == four)
        #expect(four[999] == 998_001)
    }
}
