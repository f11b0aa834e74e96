import FeatureCore
import FsmlTestSupport
import Testing

@testable import Serving

/// The cache of decoded states: equal bytes decode once, other bytes (a changed state, another
/// entity kind) are decoded anew, and memory stays bounded.
@Suite struct DecodedStateCacheTests {
    static func state(_ engine: FeatureEngine, minute: Int) -> (EntityState, [UInt8]) {
        let table = StateTable(engine: engine)
        var f = EventFactory(registry: engine.registry)
        for m in 0...minute { table.fold(f.make(EventFactory.at(Double(m)), user: "u1", product: "p1")) }
        let s = table.state(entity: 0, key: "u1")!
        return (s, StateCodec.encode(s, engine: engine, entity: 0))
    }

    @Test func equalBytesDecodeOnceAndOtherBytesAnew() throws {
        let engine = FeatureEngine(registry: EventFactory.referenceRegistry())
        let cache = DecodedStateCache()
        let (one, bytes) = Self.state(engine, minute: 3)
        let (two, changed) = Self.state(engine, minute: 4)
        var decodes = 0
        func read(_ b: [UInt8], entity: Int = 0) throws -> EntityState {
            try cache.state(entity: entity, bytes: b) { () throws(StateDecodeError) in
                decodes += 1
                return try StateCodec.decode(b, engine: engine, entity: 0)
            }
        }
        #expect(try read(bytes) == one)
        #expect(try read(bytes) == one)
        #expect(decodes == 1)
        #expect(try read(changed) == two)
        #expect(decodes == 2)
        _ = try read(bytes, entity: 1)
        #expect(decodes == 3)
    }

    /// Only a state's ends are hashed: bytes that differ in the middle alone are other bytes all
    /// the same, decoded anew, and a copy of equal bytes (a read from Redis) is a hit.
    @Test func bytesThatDifferOnlyInTheMiddleAreNotTakenForEachOther() {
        let engine = FeatureEngine(registry: EventFactory.referenceRegistry())
        let (one, _) = Self.state(engine, minute: 3)
        let cache = DecodedStateCache()
        var decodes = 0
        let a = [UInt8](repeating: 1, count: 4 * DecodedStateCache.Key.sampled)
        var b = a
        b[a.count / 2] = 2
        for bytes in [a, b, Array(a[...]), b] {
            _ = cache.state(entity: 0, bytes: bytes) { () -> EntityState in
                decodes += 1
                return one
            }
        }
        #expect(decodes == 2)
        #expect(DecodedStateCache.Key(entity: 0, bytes: a) != DecodedStateCache.Key(entity: 0, bytes: b))
    }

    @Test func memoryStaysWithinItsBound() throws {
        let engine = FeatureEngine(registry: EventFactory.referenceRegistry())
        let (one, bytes) = Self.state(engine, minute: 3)
        let size = one.approximateBytes + bytes.count
        // Room for a few states per shard: decoding many distinct ones evicts, so the early ones
        // are decoded again.
        let cache = DecodedStateCache(maxBytes: size * 16 * 8)
        var decodes = 0
        for entity in 0..<1_000 {
            _ = cache.state(entity: entity, bytes: bytes) { () -> EntityState in
                decodes += 1
                return one
            }
        }
        #expect(decodes == 1_000)
        #expect(cache.heldBytes <= size * 16 * 8)
        #expect(cache.heldBytes > 0)
    }
}
