import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import Parquet
import Testing

@testable import PointInTime

@Suite struct OfflineStoreTests {
    /// The same with row groups encoded on a background thread, as the stream job and ingest do.
    @Test(arguments: [false, true])
    func partitionsByEventDateAndReplaysInArrivalOrder(background: Bool) throws {
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let admitted = try PIT.ingest(
            try PIT.generated(seed: 7, events: 12_000), into: store, fileBytes: 60_000, rowGroupRows: 500,
            background: background)
        let files = try store.files()
        #expect(Set(files.map(\.day)).count >= 2)
        #expect(files.allSatisfy { $0.path.contains("/events/event_date=") && $0.path.hasSuffix(".parquet") })
        // Rolling by size: several files per partition.
        #expect(files.count > Set(files.map(\.day)).count)
        let scanner = try OfflineStoreScanner(store: store, schema: PIT.registry.schema)
        var replayed: [StoredEvent] = []
        while let e = try scanner.next() { replayed.append(e) }
        #expect(replayed == admitted)
        // Every file's events fall on its partition's day.
        for file in files {
            let reader = try ParquetReaderLite.eventTimes(file.path)
            #expect(reader.allSatisfy { OfflineStore.day(of: $0) == file.day })
        }
        // Pruning by time keeps the partitions that overlap.
        let day0 = files[0].day
        let pruned = try store.files(from: Micros(day0 + 1) * Timestamp.microsPerDay)
        #expect(!pruned.contains { $0.day == day0 } && !pruned.isEmpty)
    }

    @Test func uncommittedFilesAreRemovedForARestart() throws {
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        try PIT.ingest(try PIT.generated(seed: 8, events: 4000), into: store, fileBytes: 30_000, rowGroupRows: 300)
        let files = try store.files()
        let cut = files.map(\.firstSequence).sorted()[files.count / 2]
        try FileSystem.writeAtomically(
            "half",
            to:
                "\(store.eventsDirectory)/\(OfflineStore.partitionName(day: files[0].day))/part-000000000001.parquet.tmp-123"
        )
        try store.removeUncommitted(from: cut)
        let left = try store.files()
        #expect(left.allSatisfy { $0.firstSequence < cut })
        #expect(left.count < files.count)
        #expect(
            try FileManager.default.contentsOfDirectory(
                atPath: "\(store.eventsDirectory)/\(OfflineStore.partitionName(day: files[0].day))"
            ).allSatisfy { !$0.contains(".tmp-") })
    }

    /// A consumer group's offline data is a store per partition under one root. Read as one store,
    /// its events come merged by known-at time (ties by member), each member's in its own order
    /// and numbered apart from the others'.
    @Test func aGroupsMemberStoresReadAsOne() throws {
        let group = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: group.root) }
        let events = try PIT.generated(seed: 9, events: 6000)
        var expected: [StoredEvent] = []
        for p in 0..<3 {
            let member = OfflineStore(root: OfflineStore.memberDirectory(base: group.root, partition: p))
            let mine = events.indices.filter { $0 % 3 == p }.map { events[$0] }
            let admitted = try PIT.ingest(mine, into: member, fileBytes: 40_000, rowGroupRows: 400)
            expected += admitted.map {
                var e = $0
                e.sequence += Int64(p) << 40
                return e
            }
        }
        expected.sort { ($0.knownAt, $0.sequence) < ($1.knownAt, $1.sequence) }
        #expect(group.members.map(\.root) == (0..<3).map { "\(group.root)/partition-\($0)" })
        #expect(Set(try group.files().map(\.member)) == [0, 1, 2])
        let scanner = try OfflineStoreScanner(store: group, schema: PIT.registry.schema)
        var replayed: [StoredEvent] = []
        while let e = try scanner.next() { replayed.append(e) }
        #expect(replayed.count == expected.count && replayed == expected)
        // Read file by file, the same sequences.
        var sequences: [Int64] = []
        for file in try group.files() {
            try OfflineStoreScanner.forEach(in: file, schema: PIT.registry.schema) { _, sequence, _ in
                sequences.append(sequence)
            }
        }
        #expect(sequences.sorted() == expected.map(\.sequence).sorted())
        // A store of its own has no members, even beside a directory named like one.
        let single = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: single.root) }
        try PIT.ingest(Array(events.prefix(500)), into: single)
        try FileManager.default.createDirectory(
            atPath: "\(single.root)/partition-0/events", withIntermediateDirectories: true)
        #expect(single.members.isEmpty && single.statePaths == [single.statePath])
    }

    @Test func intakeStateRoundTrips() throws {
        var admission = Admission(lateness: 600_000_000)
        _ = admission.admit(id: "a", time: 1_000_000_000)
        _ = admission.admit(id: "b", time: 1_000_500_000)
        var counts = IntakeCounts()
        counts.lines = 5
        counts.deadLetters = 1
        let state = IntakeState(nextSequence: 2, admission: admission, counts: counts)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString).json").path
        try state.save(to: path)
        #expect(try IntakeState.load(path: path) == state)
    }
}

/// Reads a stored file's event times directly.
enum ParquetReaderLite {
    static func eventTimes(_ path: String) throws -> [Micros] {
        let reader = try Parquet.ParquetReader(path: path)
        let c = reader.columnIndex("event_ts")!
        var out: [Micros] = []
        for g in reader.rowGroups.indices { out += PIT.int64s(try reader.read(rowGroup: g, columns: [c])[0]) }
        return out
    }
}
