import FeatureCore
import FsmlCore
import Testing

/// The key table against a dictionary: ids stay stable while a key is present, every present key
/// is found, removed keys are not, and ids are reused. Thousands of removals in a table at most half
/// full exercise deletion's shifting of probe runs, runs that wrap around the table's end included.
@Suite struct EntityKeyTableTests {
    @Test(arguments: 0..<6)
    func agreesWithADictionaryUnderInsertsAndRemovals(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed))
        var table = EntityKeyTable()
        var oracle: [String: Int32] = [:]
        let universe = (0..<400).map { i in i % 3 == 0 ? "u\(i)" : "user-with-a-longer-key:\(i)%3A\(i * 7)" }
        for step in 0..<20_000 {
            let key = universe[Int(random.next() % UInt64(universe.count))]
            if random.next() % 3 == 0, let id = oracle[key] {
                table.remove(id: id)
                oracle[key] = nil
            } else {
                let (id, added) = table.id(key, hash: EntityKeyTable.hash(key))
                #expect(added == (oracle[key] == nil))
                if let old = oracle[key] { #expect(id == old) }
                oracle[key] = id
                #expect(table.keys[Int(id)] == key && table.live[Int(id)])
            }
            if step % 997 == 0 {
                for k in universe { #expect(table.find(k, hash: EntityKeyTable.hash(k)) == oracle[k]) }
                #expect(table.count == oracle.count)
                // Ids are dense: never more than the most keys present at once.
                #expect(table.keys.count <= universe.count)
            }
        }
        let ids = Array(oracle.values)
        #expect(Set(ids).count == ids.count)
    }

    @Test func theEmptyKeyIsAKeyLikeAnyOther() {
        var table = EntityKeyTable()
        let (id, added) = table.id("", hash: EntityKeyTable.hash(""))
        #expect(added && table.find("", hash: EntityKeyTable.hash("")) == id)
        table.remove(id: id)
        #expect(table.find("", hash: EntityKeyTable.hash("")) == nil && table.count == 0)
    }

    @Test func equalTextHashesEquallyWhateverItsStorage() {
        let small = "sku_11"
        let large = String(repeating: "k", count: 40)
        #expect(
            EntityKeyTable.hash(small) == EntityKeyTable.hash(String(small.utf8.map { Character(UnicodeScalar($0)) })))
        #expect(EntityKeyTable.hash(large) == EntityKeyTable.hash(String(decoding: Array(large.utf8), as: UTF8.self)))
        #expect(EntityKeyTable.hash("ab") != EntityKeyTable.hash("ba"))
    }
}
