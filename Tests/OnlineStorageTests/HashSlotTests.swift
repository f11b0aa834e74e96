import Testing

@testable import OnlineStorage

/// Slots against values Redis itself gives (CLUSTER KEYSLOT) and the hash-tag rules of the
/// cluster spec.
@Suite struct HashSlotTests {
    @Test func crc16IsXModem() {
        #expect(HashSlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
        #expect(HashSlot.crc16([][...]) == 0)
    }

    @Test func slotsRedisGives() {
        // redis-cli CLUSTER KEYSLOT <key>
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("bar") == 5061)
        #expect(HashSlot.of("hello") == 866)
        #expect(HashSlot.of("") == 0)
    }

    @Test func keysWithOneTagShareASlot() {
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("user1000"))
        #expect(HashSlot.of("foo{bar}zap") == HashSlot.of("bar"))
    }

    @Test func theTagRulesAtTheirEdges() {
        // An empty tag hashes the whole key; only the first `{` counts; the first `}` after it ends it.
        #expect(HashSlot.of("foo{}{bar}") == HashSlot.of(Array("foo{}{bar}".utf8)[...]))
        #expect(HashSlot.hashed(Array("foo{}{bar}".utf8)[...]) == Array("foo{}{bar}".utf8)[...])
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        #expect(HashSlot.of("foo{bar}{zap}") == HashSlot.of("bar"))
        #expect(HashSlot.of("foo{bar") == HashSlot.crc16(Array("foo{bar".utf8)[...]) % 16384)
    }

    @Test(arguments: ["p:user:u1", "p:session:u1\u{1F}s1", "p:user:{x}", "p:us{er:k", "shop:product:ü"])
    func aPrefixAndARestHashAsTheirJoin(key: String) {
        let split = key.firstIndex(of: ":")!
        let prefix = Array(key[...split].utf8)
        let rest = String(key[key.index(after: split)...])
        #expect(HashSlot.of(prefix: prefix, rest) == HashSlot.of(key))
    }
}
