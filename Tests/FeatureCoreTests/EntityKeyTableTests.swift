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
                // By text or by bytes (as a fold looks keys up), in turn: the same table.
                let (id, added) =
                    step % 2 == 0
                    ? table.id(key, hash: EntityKeyTable.hash(key))
                    : Array(key.utf8).withUnsafeBytes { table.id(bytes: $0, hash: EntityKeyTable.hash(bytes: $0)) }
                #expect(added == (oracle[key] == nil))
                if let old = oracle[key] { #expect(id == old) }
                oracle[key] = id
                #expect(table.keys[Int(id)] == key && table.live[Int(id)])
            }
            if step % 997 == 0 {
                for k in universe {
                    #expect(table.find(k, hash: EntityKeyTable.hash(k)) == oracle[k])
                    #expect(
                        Array(k.utf8).withUnsafeBytes { table.find(bytes: $0, hash: EntityKeyTable.hash(bytes: $0)) }
                            == oracle[k])
                }
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
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(table.find(bytes: empty, hash: EntityKeyTable.hash(bytes: empty)) == id)
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

    /// A key's bytes as a fold writes them are the text `key(event)` makes: one field as it is,
    /// several joined by ':' with '%' and ':' escaped, whole numbers as integers, none when a
    /// field is missing or not a string or number.
    @Test func keyBytesAreTheKeysText() {
        let cases: [[FieldValue]] = [
            [.string("u1"), .string("s:1%")], [.string("a:b"), .number(42)], [.string(""), .string("")],
            [.string("x"), .missing], [.bool(true), .string("y")], [.number(-7), .string("%3A")],
        ]
        for values in cases {
            let event = Event(time: 0, values: values)
            for fields in [[0], [1], [0, 1], [1, 0]] {
                let maker = EntityKeyMaker(fields: fields)
                var bytes: [UInt8] = [9, 9]  // appended after what is there
                let wrote = maker.write(event, into: &bytes)
                #expect(wrote == (maker.key(event) != nil), "\(values) \(fields)")
                #expect(Array(bytes.dropFirst(2)) == Array((maker.key(event) ?? "").utf8), "\(values) \(fields)")
                // Against the key as a request's fields join it (`key` itself goes through `write`).
                let parts = fields.map { f -> String? in
                    switch values[f] {
                    case .string(let s): return s
                    case .number(let x): return String(Int64(x))
                    default: return nil
                    }
                }
                if !parts.contains(nil) {
                    #expect(Array(bytes.dropFirst(2)) == Array(EntityKeyMaker.join(parts.map { $0! }).utf8))
                }
            }
        }
    }
}
