import FeatureCore
import FsmlCore
import FsmlTestSupport
import Testing

@testable import Serving

/// The scanner against the general reader as its oracle: for every body it takes, the same
/// fields; for the plain bodies clients send, it takes them (else it would save nothing).
@Suite struct PredictBodyScannerTests {
    static let registry = EventFactory.referenceRegistry()
    static let lookup = try! FeatureLookup(
        registry: registry,
        modelFeatures: registry.servedFeatures.map {
            registry.features[$0].name
        })
    static let contract = ServingContract(registry: registry, features: lookup.features)
    static let plan = PredictPlan(contract: contract, lookup: lookup, version: "m@1")

    /// The general path's reading, as the scanner's type; nil for a refusal.
    static func general(_ body: [UInt8]) -> PredictFields? {
        (try? ServeRequests.predict(body, contract: contract)).map { PredictFields($0, contract: contract) }
    }

    @Test func plainBodiesAreScannedAsTheGeneralReaderReadsThem() {
        let bodies = [
            #"{"user_id":"u1","product_id":"p1","session_id":"s1","price":17.49}"#,
            " { \"product_id\" : \"p1\" ,\t\"user_id\":\"u1\" , \"price\": -0.5e2 }",
            #"{"user_id":"u1","product_id":"p1","session_id":null,"price":null}"#,
            "{\"user_id\":\"u 1\",\"product_id\":\"\(String(repeating: "p", count: 128))\"}\n",
            #"{"explain":true,"user_id":"u1","product_id":"p1"}"#,
            #"{"user_id":"u1","product_id":"p1", "explain" : false }"#,
            #"{"user_id":"u1","explain":null,"product_id":"p1"}"#,
        ]
        for b in bodies {
            let scanned = PredictBodyScanner.scan(Array(b.utf8), plan: Self.plan)
            #expect(scanned != nil, "\(b)")
            #expect(scanned == Self.general(Array(b.utf8)), "\(b)")
        }
        let s = PredictBodyScanner.scan(Array(bodies[0].utf8), plan: Self.plan)!
        #expect(s.keys == ["u1", "p1", "s1"])
        #expect(s.values.map(\.value) == [.number(17.49)] && !s.explain)
        #expect(PredictBodyScanner.scan(Array(bodies[4].utf8), plan: Self.plan)?.explain == true)
    }

    @Test func bodiesItDoesNotTakeAreLeftToTheGeneralReader() {
        let bodies = [
            #"{"user_id":"u\u0031","product_id":"p1"}"#,  // an escape
            #"{"user_id":"ü","product_id":"p1"}"#,  // beyond ASCII
            #"{"user_id":"u1","product_id":7}"#,  // a number as a key
            #"{"user_id":"u1","product_id":"p1","user_id":"u2"}"#,  // repeated
            #"{"user_id":"u1","product_id":"p1","colour":"red"}"#,  // unknown
            #"{"user_id":"u1"}"#,  // a required field missing
            #"{"user_id":"","product_id":"p1"}"#,  // empty
            "{\"user_id\":\"\(String(repeating: "u", count: 129))\",\"product_id\":\"p1\"}",
            #"{"user_id":"u1","product_id":"p1","price":"17"}"#,
            #"{"user_id":"u1","product_id":"p1","price":1e999}"#,
            #"{"user_id":"u1","product_id":"p1"} x"#,
            #"{"user_id":"u1","product_id":"p1",}"#,
            #"{"user_id":"u1","product_id":"p1","explain":"yes"}"#,  // refused by the general reader
            #"{"user_id":"u1","product_id":"p1","explain":true,"explain":false}"#,  // repeated
            #"["user_id"]"#, "", "{",
        ]
        for b in bodies { #expect(PredictBodyScanner.scan(Array(b.utf8), plan: Self.plan) == nil, "\(b)") }
    }

    /// Bodies built from pieces that are valid, invalid, or on the edge of what the scanner takes:
    /// whatever it takes must read as the general reader reads it.
    @Test func randomBodiesAgreeWithTheGeneralReader() {
        let names = [
            "\"user_id\"", "\"product_id\"", "\"session_id\"", "\"price\"", "\"colour\"", "\"user\\u005fid\"",
            "user_id", "\"explain\"",
        ]
        let values = [
            "\"u1\"", "\"\"", "null", "7", "-3", "1.5", "1e3", "-0", "01", "true", "false", "\"a\\\"b\"", "\"é\"",
            "[]", "{}", "\"x y\"", "nul", "1.", "\"\u{7F}\"", "\"\t\"",
        ]
        let glue = ["", " ", "\n", ",", ":", "\r\n\t"]
        var g = SeededRandom(seed: 11)
        func pick<T>(_ a: [T]) -> T { a[Int(g.uniform() * Double(a.count)) % a.count] }
        var taken = 0
        for _ in 0..<20_000 {
            var members: [String] = []
            for _ in 0..<(Int(g.uniform() * 5)) {
                members.append(pick(glue) + pick(names) + pick(glue) + ":" + pick(glue) + pick(values) + pick(glue))
            }
            if g.uniform() < 0.7 {
                members.insert("\"user_id\":\"u\(Int(g.uniform() * 9))\"", at: 0)
                members.append("\"product_id\":\"p\(Int(g.uniform() * 9))\"")
            }
            var body = "{" + members.joined(separator: ",") + "}"
            if g.uniform() < 0.1 { body = pick(glue) + body + pick(glue) }
            let bytes = Array(body.utf8)
            guard let scanned = PredictBodyScanner.scan(bytes, plan: Self.plan) else { continue }
            taken += 1
            #expect(scanned == Self.general(bytes), "\(body)")
        }
        #expect(taken > 1000)
    }

    @Test func entityKeysAndFieldsFollowTheContract() {
        let f = PredictBodyScanner.scan(
            Array(#"{"user_id":"u:1","product_id":"p1","session_id":"s%1","price":2}"#.utf8), plan: Self.plan)!
        let keys = f.entityKeys(Self.plan)
        let expected = Self.lookup.keys(
            ["user_id": "u:1", "product_id": "p1", "session_id": "s%1"], entities: Self.contract.entities)
        #expect(keys.map(\.entity) == expected.map(\.entity) && keys.map(\.key) == expected.map(\.key))
        let fields = f.schemaValues(Self.plan)
        let general = Self.lookup.fieldValues(
            ServeRequests.Fields(
                keys: ["user_id": "u:1", "product_id": "p1", "session_id": "s%1"], values: ["price": .number(2)]))
        #expect(fields.indices.allSatisfy { fields[$0] == (general[$0] ?? .missing) })
        #expect(f.ids(Self.contract).map { "\($0.0)=\($0.1)" } == ["user_id=u:1", "product_id=p1", "session_id=s%1"])
    }
}

extension PredictBodyScannerTests {
    @Test func keysAreJoinedAsTheEngineJoinsThem() {
        for parts in [["u1"], ["u1", "s1"], ["u:1", "s1"], ["u1", "s%1"], ["", ""], ["a", "b", "c"], ["é", "ü:"]] {
            #expect(PredictFields.join(parts) == EntityKeyMaker.join(parts), "\(parts)")
        }
    }
}
