import FeatureConfig
import FeatureCore
import FsmlCore
import FsmlTestSupport
import Testing

/// States built from parts of the events and merged equal the state built from all of them: the
/// windows merge tile by tile with each aggregator's `merge`.
@Suite struct StateTableTests {
    static let registry = StateCompatibilityTests.registryWithEveryKind()

    @Test(arguments: 0..<8)
    func statesOfShardsMergeIntoTheStateOfAll(seed: Int) throws {
        let engine = FeatureEngine(registry: Self.registry)
        var random = SeededRandom(seed: UInt64(seed))
        var factory = EventFactory(registry: Self.registry)
        let types = ["page_view", "page_view", "add_to_cart", "purchase"]
        // An hour and a half of events (within every TTL, so no entity starts over), out of order.
        var events: [Event] = []
        for _ in 0..<600 {
            events.append(
                factory.make(
                    EventFactory.at(random.uniform() * 90), type: types[random.below(types.count)],
                    user: "u\(random.below(5))", session: "s\(random.below(2))", product: "p\(random.below(8))",
                    price: Double(random.below(1000)) / 8))
        }
        let all = StateTable(engine: engine)
        let shards = [StateTable(engine: engine), StateTable(engine: engine), StateTable(engine: engine)]
        for e in events {
            all.fold(e)
            shards[random.below(3)].fold(e)
        }
        for entity in engine.entities.indices {
            for (key, whole) in all.tables[entity] {
                var merged = engine.emptyState(entity: entity)
                for shard in shards.shuffled(using: &random) {
                    if let part = shard.state(entity: entity, key: key) {
                        engine.merge(part, into: &merged, entity: entity)
                    }
                }
                #expect(merged == whole, "\(engine.entities[entity].entity.name) \(key)")
                #expect(
                    StateCodec.encode(merged, engine: engine, entity: entity)
                        == StateCodec.encode(whole, engine: engine, entity: entity))
            }
        }
    }

    /// Folding a batch (keys, ids and states first, then the folds) gives what folding its events
    /// one by one gives: the same states, the same changed keys, across TTL restarts, repeated
    /// keys inside a batch, batches of every length, and in a table of fixed keys.
    @Test(arguments: [1, 31, 32, 33, 500])
    func aBatchFoldsAsItsEventsOneByOne(length: Int) throws {
        let engine = FeatureEngine(registry: Self.registry)
        var random = SeededRandom(seed: UInt64(length))
        var factory = EventFactory(registry: Self.registry)
        let types = ["page_view", "page_view", "add_to_cart", "purchase"]
        // Two days: sessions and users outlive their TTLs and start over.
        var events: [Event] = []
        for i in 0..<1_500 {
            events.append(
                factory.make(
                    EventFactory.at(Double(i) * 2 + random.uniform()), type: types[random.below(types.count)],
                    user: "u\(random.below(40))", session: "s\(random.below(60))",
                    product: "product-with-a-long-name-\(random.below(30))", price: Double(random.below(1000)) / 8))
        }
        let one = StateTable(engine: engine, tracksChanges: true)
        let batched = StateTable(engine: engine, tracksChanges: true)
        var keys = [EntityKeyTable](repeating: EntityKeyTable(), count: engine.entities.count)
        for k in 0..<20 { _ = keys[0].id("u\(k)", hash: EntityKeyTable.hash("u\(k)")) }
        let fixedOne = StateTable(engine: engine, keys: keys)
        let fixedBatched = StateTable(engine: engine, keys: keys)
        var start = 0
        while start < events.count {
            let end = min(start + length, events.count)
            for e in events[start..<end] {
                one.fold(e)
                fixedOne.fold(e)
            }
            batched.fold(Array(events[start..<end]))
            fixedBatched.fold(count: end - start) { events[start + $0] }
            #expect(batched.takeChanges() == one.takeChanges())
            start = end
        }
        #expect(batched.tables.map(\.count) == one.tables.map(\.count))
        #expect(batched.tables == one.tables)
        #expect(fixedBatched.tables == fixedOne.tables)
        #expect(fixedOne.tables[0].count == 20 && fixedOne.tables[1].isEmpty)
    }

    @Test func aCopiedStateIsNotChangedByFoldingIntoTheOriginal() {
        let engine = FeatureEngine(registry: Self.registry)
        var factory = EventFactory(registry: Self.registry)
        let table = StateTable(engine: engine)
        table.fold(factory.make(EventFactory.at(1)))
        let copy = table.state(entity: 0, key: "u1")!
        let bytes = StateCodec.encode(copy, engine: engine, entity: 0)
        table.fold(factory.make(EventFactory.at(2)))
        #expect(StateCodec.encode(copy, engine: engine, entity: 0) == bytes)
        #expect(table.state(entity: 0, key: "u1")! != copy)
        let views = Self.registry.featureIndex("user_views_5m")!
        #expect(engine.value(feature: views, state: copy, asOf: EventFactory.at(3)) == 1)
        #expect(table.value(feature: views, key: "u1", asOf: EventFactory.at(3)) == 2)
    }

    /// Eviction drops exactly the states whose latest event is more than their TTL before the
    /// watermark, and names them per entity kind.
    @Test func evictionDropsAndNamesTheExpiredStatesOnly() throws {
        let registry = EventFactory.referenceRegistry()
        let engine = FeatureEngine(registry: registry)
        let table = StateTable(engine: engine)
        var factory = EventFactory(registry: registry)
        table.fold(factory.make(EventFactory.at(0), user: "old", session: "s1", product: "p1"))
        table.fold(factory.make(EventFactory.at(10), user: "new", session: "s2", product: "p1"))
        let user = try #require(registry.entityIndex("user"))
        let ttl = registry.entities[user].ttl
        // The watermark just past the old user's TTL, within the new one's.
        let watermark = EventFactory.at(0) + ttl + 1
        let evicted = table.evictExpired(watermark: watermark)
        for e in engine.entities.indices {
            for (_, key) in evicted[e] { #expect(table.state(entity: e, key: key) == nil) }
            for (key, state) in table.tables[e] {
                #expect(watermark - state.lastTime <= registry.entities[e].ttl, "\(key)")
            }
        }
        try #require(ttl > 10 * 60_000_000)
        #expect(evicted[user].map(\.key) == ["old"])
        #expect(table.state(entity: user, key: "new") != nil)
    }

    /// A retired key of a table with fixed keys reads as missing from then on, its later events
    /// are not folded (not even into a new state), and eviction leaves it retired; other keys go on.
    @Test func aRetiredKeyIsNeverFoldedOrReadAgain() throws {
        let registry = EventFactory.referenceRegistry()
        let engine = FeatureEngine(registry: registry)
        let user = try #require(registry.entityIndex("user"))
        var keys = [EntityKeyTable](repeating: EntityKeyTable(), count: engine.entities.count)
        let gone = keys[user].id("gone", hash: EntityKeyTable.hash("gone")).id
        let kept = keys[user].id("kept", hash: EntityKeyTable.hash("kept")).id
        let table = StateTable(engine: engine, keys: keys)
        var factory = EventFactory(registry: registry)
        table.fold([factory.make(EventFactory.at(0), user: "gone"), factory.make(EventFactory.at(0), user: "kept")])
        #expect(table.state(entity: user, id: gone) != nil)
        table.retire(entity: user, id: gone)
        #expect(table.state(entity: user, id: gone) == nil)
        table.fold([factory.make(EventFactory.at(1), user: "gone"), factory.make(EventFactory.at(1), user: "kept")])
        table.fold(factory.make(EventFactory.at(2), user: "gone"))
        #expect(table.state(entity: user, id: gone) == nil)
        let views = try #require(registry.featureIndex("user_views_5m"))
        let state = try #require(table.state(entity: user, id: kept))
        #expect(engine.value(feature: views, state: state, asOf: EventFactory.at(3)) == 2)
        table.evictExpired(watermark: EventFactory.at(2) + registry.entities[user].ttl + 1)
        table.fold(factory.make(EventFactory.at(2) + 2 * registry.entities[user].ttl, user: "gone"))
        #expect(table.state(entity: user, id: gone) == nil)
    }
}
