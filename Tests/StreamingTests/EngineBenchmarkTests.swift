import Foundation
import FsmlTestSupport
import Testing

@testable import Streaming

/// The engine benchmark counts what it timed: a hand-made file of four events (one a duplicate)
/// and a line that is not an event.
@Suite struct EngineBenchmarkTests {
    static func event(_ id: String, user: String, product: String, session: String) -> String {
        #"{"event_id":"\#(id)","event_ts":"2026-11-01T10:00:00Z","user_id":"\#(user)","session_id":"\#(session)","event_type":"page_view","product_id":"\#(product)","price":10,"currency":"EUR","device":{"mobile":true,"os":"ios"},"geo":{"country":"DE","city":"Berlin"}}"#
    }

    @Test func countsAndStatesAreThoseOfTheFile() throws {
        let path = NSTemporaryDirectory() + "fsml-engine-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = [
            Self.event("e1", user: "u1", product: "p1", session: "s1"),
            Self.event("e2", user: "u1", product: "p2", session: "s1"),
            Self.event("e2", user: "u1", product: "p2", session: "s1"),
            Self.event("e3", user: "u2", product: "p1", session: "s2"),
            "{not an event",
        ]
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let registry = EventFactory.referenceRegistry()
        let m = try EngineBenchmark.run(path: path, registry: registry)
        #expect(m.lines == 5 && m.deadLetters == 1 && m.parsed == 4)
        #expect(m.duplicates == 1 && m.late == 0 && m.folded == 3)
        #expect(m.bytesIn == Double(lines.map { $0.utf8.count + 1 }.reduce(0, +)))
        let states = Dictionary(uniqueKeysWithValues: m.kinds.map { ($0.name, $0.states) })
        #expect(states == ["user": 2, "product": 2, "session": 2, "user_product": 3])
        #expect(m.kinds.allSatisfy { $0.meanBytes > 0 && $0.maxBytes >= Int($0.meanBytes) })
        #expect(m.entityNames == registry.entities.map(\.name) && m.slots > 0)
    }
}
