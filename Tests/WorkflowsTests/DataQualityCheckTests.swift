import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

@testable import Workflows

/// The reference project's expectations on a hand-made events file: a repeated event id, and
/// three lines that are not events of the schema (a negative price, an unknown type, no JSON).
@Suite struct DataQualityCheckTests {
    static func event(_ id: String, type: String = "page_view", price: Double = 10) -> String {
        #"{"event_id":"\#(id)","event_ts":"2026-11-01T10:00:00Z","user_id":"u1","session_id":"s1","event_type":"\#(type)","product_id":"p1","price":\#(price),"currency":"EUR","device":{"mobile":true,"os":"ios"},"geo":{"country":"DE","city":"Berlin"}}"#
    }

    @Test func eachExpectationIsJudgedOnEveryRow() throws {
        let path = NSTemporaryDirectory() + "fsml-quality-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = [
            Self.event("e1"), Self.event("e1"), Self.event("e2", price: -1), Self.event("e3", type: "refund"),
            "not an event",
        ]
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let results = try DataQualityCheck.run(
            registry: EventFactory.referenceRegistry(), source: .events(path: path), asOf: 0)
        let failed = Set(results.filter { !$0.passed }.map { "\($0.column) \($0.check)" })
        #expect(
            failed == ["(events) schema", "event_id unique"],
            "\(results.map { "\($0.column) \($0.check) \($0.observed)" })")
        // The schema refuses the negative price and the unknown type: 3 of 5 lines.
        #expect(results.first { $0.check == "schema" }?.observed == "3 lines, 60.000 %")
        #expect(results.first { $0.check == "unique" }?.observed == "1 repeats")
        let html = DataQualityCheck.html(results, data: path)
        #expect(html.contains("2 of \(results.count) expectations failed"))
        #expect(throws: WorkflowError.self) {
            try DataQualityCheck.run(
                registry: EventFactory.referenceRegistry(), source: .offlineStore(root: path + ".none"), asOf: 0)
        }
    }
}
