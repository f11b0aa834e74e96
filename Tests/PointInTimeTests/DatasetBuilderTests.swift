import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import OfflineStorage
import Parquet
import Testing

@testable import PointInTime

@Suite struct DatasetBuilderTests {
    let registry = PIT.registry

    /// Every operation, pair keys and derived features, request-time ones reading the example
    /// event's fields: every row of a build equals the oracle evaluating the same row.
    @Test func everyOperationAndRequestTimeFeaturesEqualTheOracle() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FeatureCoreTests/Fixtures/every-operation.yaml").path
        let registry = try RegistryLoader.parse(String(contentsOfFile: path, encoding: .utf8), file: path)
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let lines = try PIT.generatedLines(seed: 43, events: 8000)
        let parser = EventParser(schema: registry.schema)
        let events = try lines.map { try $0.withUnsafeBytes { parser.parse($0) }.get() }
        try PIT.ingest(events, into: store, registry: registry)
        let (report, columns, data) = try PIT.build(store, registry: registry)
        let oracle = try FeatureOracle(registry: registry, lines: lines)
        let names = columns.map(\.name)
        let ids = PIT.strings(data[names.firstIndex(of: "event_id")!])
        let times = PIT.int64s(data[names.firstIndex(of: "event_ts")!])
        #expect(report.rows > 2000)
        let requestTime = registry.servedFeatures.filter { registry.isRequestTime($0) }
        #expect(requestTime.count == 4)
        var compared = 0
        for f in registry.servedFeatures {
            let values = PIT.doubles(data[names.firstIndex(of: registry.features[f].name)!])
            for r in stride(from: 0, to: times.count, by: 11) {
                let request = oracle.request(eventID: ids[r]!)!
                let want = oracle.value(feature: f, keys: request.keys, fields: request.fields, asOf: times[r])
                let tolerance = oracle.expected(
                    feature: f, key: request.keys[registry.features[f].entity] ?? "", asOf: times[r])
                let ok = registry.features[f].derived != nil ? sameValue(values[r], want) : tolerance.admits(values[r])
                if !ok { Issue.record("\(registry.features[f].name) at row \(r): built \(values[r]), oracle \(want)") }
                compared += 1
            }
        }
        #expect(compared > 10_000)
        // The request-time features are not all missing: they read the example event.
        for f in requestTime {
            let values = PIT.doubles(data[names.firstIndex(of: registry.features[f].name)!])
            #expect(values.filter { !$0.isNaN }.count > values.count / 4, "\(registry.features[f].name)")
        }
    }

    /// Every feature of every row equals the brute-force oracle; every label equals a scan of the
    /// admitted outcomes; immature examples are exactly those whose horizon is not settled.
    @Test(arguments: [false, true])
    func buildsEqualTheOracle(eventTimeOnly: Bool) throws {
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        // Small files and row groups, so the replay merges many files across partitions.
        let lines = try PIT.generatedLines(seed: 41)
        let parser = EventParser(schema: registry.schema)
        let events = try lines.map { try $0.withUnsafeBytes { parser.parse($0) }.get() }
        let admitted = try PIT.ingest(events, into: store, fileBytes: 100_000, rowGroupRows: 1000)
        #expect(try store.files().count > 4)
        var options = BuildOptions()
        options.eventTimeOnly = eventTimeOnly
        // Chunks of an odd size, so examples and their events fall in different chunks.
        let (report, columns, data) = try PIT.build(store, options: options, chunkEvents: 97)
        let oracle = try FeatureOracle(registry: registry, lines: lines)
        #expect(oracle.rows.map(\.knownAt) == admitted.map(\.knownAt))
        let names = columns.map(\.name)
        let times = PIT.int64s(data[names.firstIndex(of: "event_ts")!])
        let users = PIT.strings(data[names.firstIndex(of: "user_id")!])
        let products = PIT.strings(data[names.firstIndex(of: "product_id")!])
        let labels = PIT.int32s(data[names.firstIndex(of: "added_to_cart_30m")!])
        #expect(report.rows == times.count && report.rows > 10_000)
        #expect(times == times.sorted())
        let ids = PIT.strings(data[names.firstIndex(of: "event_id")!])
        for f in registry.servedFeatures {
            let spec = registry.features[f]
            let values = PIT.doubles(data[names.firstIndex(of: spec.name)!])
            for r in stride(from: 0, to: times.count, by: 7) {
                // The example event as a request: its keys and fields (the price shown).
                let request = oracle.request(eventID: ids[r]!)!
                let want = oracle.value(
                    feature: f, keys: request.keys, fields: request.fields, asOf: times[r], eventTimeOnly: eventTimeOnly
                )
                if !sameValue(values[r], want) {
                    Issue.record(
                        "\(spec.name)[\(request.keys[spec.entity] ?? "-")] at \(Timestamp.format(times[r])): built \(values[r]), oracle \(want)"
                    )
                }
            }
        }
        // Labels by brute force: an add_to_cart of the same user and product in (t, t + 30m].
        let carts = admitted.filter {
            $0.event.values[registry.schema.index(of: "event_type")!] == .string("add_to_cart")
        }
        var cartsByPair: [String: [Micros]] = [:]
        for c in carts {
            let e = c.event
            cartsByPair[
                e.values[registry.schema.index(of: "user_id")!].stringValue! + "|" + e.values[
                    registry.schema.index(of: "product_id")!
                ].stringValue!, default: []
            ].append(e.time)
        }
        for r in times.indices {
            let pair = users[r]! + "|" + products[r]!
            let want = (cartsByPair[pair] ?? []).contains {
                $0 > times[r] && $0 <= times[r] + 30 * Timestamp.microsPerMinute
            }
            #expect((labels[r] == 1) == want)
        }
        #expect(labels.filter { $0 == 1 }.count == report.positives)
        // Immature: page views whose 30 minutes reach the final watermark.
        let watermark = admitted.map(\.knownAt).max()! - registry.allowedLateness
        let views = admitted.filter {
            $0.event.values[registry.schema.index(of: "event_type")!] == .string("page_view")
        }
        #expect(report.immature == views.filter { $0.event.time + 30 * Timestamp.microsPerMinute >= watermark }.count)
        #expect(report.rows + report.immature == views.count)
    }

    /// Labelled builds give the same rows and report whatever the number of fold threads and the
    /// chunk size: the kinds' states are independent until the join, and a key's state is dropped
    /// after its last read on whichever thread folds it.
    @Test(arguments: [false, true])
    func labelledBuildsAreTheSameOnAnyThreadsAndChunks(eventTimeOnly: Bool) throws {
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        try PIT.ingest(try PIT.generated(seed: 53), into: store, fileBytes: 150_000, rowGroupRows: 700)
        var options = BuildOptions()
        options.eventTimeOnly = eventTimeOnly
        let (report, _, serial) = try PIT.build(store, options: options, chunkEvents: 16_384, threads: 1)
        #expect(report.rows > 10_000 && report.immature > 0)
        for (chunkEvents, threads) in [(13, 2), (101, 3), (4096, 4)] {
            let (other, _, data) = try PIT.build(store, options: options, chunkEvents: chunkEvents, threads: threads)
            #expect(data == serial, "\(threads) threads, chunks of \(chunkEvents)")
            #expect(
                (other.rows, other.positives, other.immature, other.examples)
                    == (report.rows, report.positives, report.immature, report.examples))
        }
    }

    /// A labelled build in entity-hash partitions writes the file an unpartitioned build writes,
    /// byte for byte, and the same report, for any number of partitions: each partition's rows are
    /// the rows of its examples, and the spills merge back into (time, sequence) order, in row groups
    /// of the same size. Small row groups make the merge cross many groups of every spill.
    @Test(arguments: [false, true])
    func partitionedBuildsWriteTheSameFile(eventTimeOnly: Bool) throws {
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        try PIT.ingest(try PIT.generated(seed: 61), into: store, fileBytes: 200_000, rowGroupRows: 900)
        func build(partitions: Int) throws -> (report: BuildReport, bytes: [UInt8]) {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "fsml-parts-\(UUID().uuidString).parquet"
            ).path
            defer { try? FileManager.default.removeItem(atPath: path) }
            var options = BuildOptions()
            options.eventTimeOnly = eventTimeOnly
            options.partitions = partitions
            let builder = DatasetBuilder(registry: registry, store: store, options: options)
            builder.chunkEvents = 257
            let writer = try DatasetWriter(path: path, format: .parquet, columns: builder.exampleColumns)
            writer.groupRows = 1000
            let report = try builder.buildExamples(into: writer)
            try writer.close()
            #expect(try ParquetReader(path: path).rowGroups.count > 5)
            return (report, Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        let whole = try build(partitions: 1)
        #expect(whole.report.rows > 10_000 && whole.report.immature > 0)
        for partitions in [2, 3, 7] {
            let parts = try build(partitions: partitions)
            #expect(parts.bytes == whole.bytes, "\(partitions) partitions")
            let (a, b) = (parts.report, whole.report)
            #expect(
                (a.rows, a.positives, a.immature, a.examples, a.eventsReplayed)
                    == (b.rows, b.positives, b.immature, b.examples, b.eventsReplayed))
            #expect(a.firstExample == b.firstExample && a.lastExample == b.lastExample)
            #expect(a.settledUntil == b.settledUntil)
        }
    }

    /// The memory budget sets the number of partitions from the store's rows.
    @Test func partitionsFollowTheMemoryBudget() {
        #expect(EntityPartition.count(rows: 1000, budget: 500_000) == 1)
        #expect(EntityPartition.count(rows: 1001, budget: 500_000) == 2)
        #expect(EntityPartition.count(rows: 2_000_000, budget: 2 << 30) == 1)
        #expect(EntityPartition.count(rows: 10_000_000, budget: 2 << 30) == 3)
        #expect(
            EntityPartition.field(engine: FeatureEngine(registry: registry)) == registry.schema.index(of: "user_id"))
    }

    /// Changing events after an example's time changes none of its features.
    @Test func noLeakageFromTheFuture() throws {
        let events = try PIT.generated(seed: 42, events: 8000)
        let cut = events.map(\.time).sorted()[events.count / 2]
        var altered = events
        let priceField = registry.schema.index(of: "price")!
        let typeField = registry.schema.index(of: "event_type")!
        for i in altered.indices where altered[i].time >= cut {
            altered[i].values[priceField] = .number(999)
            altered[i].values[typeField] = .string("purchase")
        }
        let a = PIT.temporaryStore()
        let b = PIT.temporaryStore()
        defer {
            try? FileManager.default.removeItem(atPath: a.root)
            try? FileManager.default.removeItem(atPath: b.root)
        }
        try PIT.ingest(events, into: a)
        try PIT.ingest(altered, into: b)
        // A spine of every user at times before the cut.
        var spineUsers: [String] = []
        var spineTimes: [Micros] = []
        for (i, e) in events.enumerated() where e.time < cut && i % 5 == 0 {
            spineUsers.append(e.values[registry.schema.index(of: "user_id")!].stringValue!)
            spineTimes.append(e.time + 1)
        }
        let spine = Spine(
            times: spineTimes, keys: [spineUsers, spineUsers.map { _ in nil }, spineUsers.map { _ in nil }],
            columns: [.string("user_id"), .timestamp("event_timestamp")],
            data: [ColumnData(.byteArray(spineUsers)), ColumnData(.int64(spineTimes))], timeColumn: 1)
        let (_, _, before) = try PIT.build(a, spine: spine)
        let (_, _, after) = try PIT.build(b, spine: spine)
        // Only events known before t count, and every altered event was known at or after the cut.
        #expect(before == after)
        #expect(PIT.doubles(before[2]).contains { $0 > 0 })
    }

    @Test func ttlEdgesAndUnknownKeys() throws {
        var f = EventFactory(registry: registry)
        let at = EventFactory.at
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        try PIT.ingest([f.make(at(0), user: "u", session: "s"), f.make(at(10), user: "other")], into: store)
        let week = 7 * Timestamp.microsPerDay
        let times: [Micros] = [at(0), at(0) + 1, at(0) + week, at(0) + week + 1, at(120), at(120) + 1]
        let users = ["u", "u", "u", "u", "nobody", "u"]
        let spine = Spine(
            times: times, keys: [users, users.map { _ in nil }, users.map { EntityKeyMaker.join([$0, "s"]) }],
            columns: [.string("user_id"), .timestamp("ts")],
            data: [ColumnData(.byteArray(users)), ColumnData(.int64(times))],
            timeColumn: 1)
        let (_, columns, data) = try PIT.build(store, spine: spine)
        let views = PIT.doubles(data[columns.firstIndex { $0.name == "user_views_5m" }!])
        let duration = PIT.doubles(data[columns.firstIndex { $0.name == "sess_duration_s" }!])
        // Nothing known before the first event; present until exactly the TTL; then missing.
        #expect(views[0].isNaN)
        #expect(views[1] == 1)
        #expect(views[2] == 0)
        #expect(views[3].isNaN)
        #expect(views[4].isNaN)
        // Session TTL 2h: at 12:00 + 2h still there; a microsecond later missing.
        #expect(duration[1] == 0)
        #expect(duration[5].isNaN)
    }

    /// A spine of labelled rows (their keys, times and prices, out of order) gets those rows'
    /// features, whatever the size of the chunks the replay is folded in and however many threads
    /// fold it: spine rows and examples are evaluated by one rule, and the events of keys no row
    /// names are never folded.
    @Test(arguments: [false, true])
    func aSpineOfExamplesGetsTheirFeatures(eventTimeOnly: Bool) throws {
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let lines = try PIT.generatedLines(seed: 47)
        let parser = EventParser(schema: registry.schema)
        try PIT.ingest(lines.map { try $0.withUnsafeBytes { parser.parse($0) }.get() }, into: store)
        var options = BuildOptions()
        options.eventTimeOnly = eventTimeOnly
        let (_, columns, data) = try PIT.build(store, options: options)
        let names = columns.map(\.name)
        func column(_ name: String) -> ColumnData { data[names.firstIndex(of: name)!] }
        let times = PIT.int64s(column("event_ts"))
        let (users, products, sessions) = (
            PIT.strings(column("user_id")), PIT.strings(column("product_id")), PIT.strings(column("session_id"))
        )
        let rows = Array(stride(from: times.count - 1, through: 0, by: -3))
        var spine = Spine(
            times: rows.map { times[$0] },
            keys: [
                rows.map { users[$0] }, rows.map { products[$0] },
                rows.map { EntityKeyMaker.join([users[$0]!, sessions[$0]!]) },
                rows.map { EntityKeyMaker.join([users[$0]!, products[$0]!]) },
            ])
        // Every request field a feature reads, from the examples' own columns.
        let fields = registry.features.indices.reduce(into: Set<Int>()) { $0.formUnion(registry.requestFields(of: $1)) }
        for (c, field) in fields.sorted().enumerated() {
            let source = column(registry.schema.fields[field].name)
            spine.columns.append(
                ParquetColumn(name: registry.schema.fields[field].name, physical: PIT.physical(source), optional: true))
            spine.data.append(PIT.rows(source, rows))
            spine.fieldColumns[field] = (c, registry.schema.fields[field].type)
        }
        #expect(fields.contains(registry.schema.index(of: "price")!))
        let builder = DatasetBuilder(registry: registry, store: store, options: options)
        for (chunkEvents, threads) in [(16_384, 2), (13, 1), (101, 3)] {
            builder.chunkEvents = chunkEvents
            builder.threads = threads
            let (results, report) = try builder.evaluateSpine(spine)
            #expect(report.rows == rows.count && rows.count > 3000)
            for (j, f) in builder.features.enumerated() {
                let built = PIT.doubles(column(registry.features[f].name))
                let wrong = rows.indices.filter { !sameValue(results[$0][j], built[rows[$0]]) }
                #expect(wrong.count == 0, "\(registry.features[f].name): first at spine row \(wrong.first ?? -1)")
            }
        }
    }

    @Test func spineRowsKeepTheirOrderDuplicatesAndTies() throws {
        var f = EventFactory(registry: registry)
        let at = EventFactory.at
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        try PIT.ingest((0..<10).map { f.make(at(Double($0)), user: "u") }, into: store)
        // Out of time order, with repeated (key, time) rows.
        let times: [Micros] = [at(5), at(2), at(5), at(2) + 1, at(5), at(0)]
        let users = ["u", "u", "u", "u", "u", "u"]
        let spine = Spine(
            times: times, keys: [users, users.map { _ in nil }, users.map { _ in nil }],
            columns: [.string("user_id"), .timestamp("ts"), .string("note")],
            data: [
                ColumnData(.byteArray(users)), ColumnData(.int64(times)),
                ColumnData(.byteArray(["a", "b", "c", "d", "e", "f"])),
            ],
            timeColumn: 1)
        let (_, columns, data) = try PIT.build(store, spine: spine)
        #expect(PIT.strings(data[2]) == ["a", "b", "c", "d", "e", "f"])
        let views = PIT.doubles(data[columns.firstIndex { $0.name == "user_views_5m" }!])
        // Views at 12:00..12:09 each minute; as of 12:05 the window [12:00, 12:05) holds 5.
        #expect(zip(views, [5, 2, 5, 3, 5, .nan]).allSatisfy { sameValue($0, $1) })
    }

    /// A late event (event time 12:01, arriving when the clock is 12:06) is not seen at 12:05 as
    /// known, and is with --event-time-only.
    /// A consumer group's offline data (a store per partition, each member with its own clock)
    /// builds as one store holding the same events: on events in time order without duplicates,
    /// every member admits what one intake would, at the same known-at times.
    @Test(arguments: [false, true])
    func aGroupsStoresBuildAsOneStore(eventTimeOnly: Bool) throws {
        var seen = Set<String>()
        let events = try PIT.generated(seed: 12, events: 8000)
            .filter { seen.insert($0.id(in: registry.schema)).inserted }
            .sorted { $0.time < $1.time }
        let single = PIT.temporaryStore()
        let group = PIT.temporaryStore()
        defer {
            try? FileManager.default.removeItem(atPath: single.root)
            try? FileManager.default.removeItem(atPath: group.root)
        }
        try PIT.ingest(events, into: single)
        for p in 0..<3 {
            let member = OfflineStore(root: OfflineStore.memberDirectory(base: group.root, partition: p))
            try PIT.ingest(events.indices.filter { $0 % 3 == p }.map { events[$0] }, into: member, fileBytes: 50_000)
        }
        var options = BuildOptions()
        options.eventTimeOnly = eventTimeOnly
        let (oneReport, columns, one) = try PIT.build(single, options: options)
        let (groupReport, _, merged) = try PIT.build(group, options: options)
        #expect(groupReport.rows == oneReport.rows && oneReport.rows > 1000)
        #expect(groupReport.positives == oneReport.positives && oneReport.positives > 0)
        // Row for row, once ordered alike (ties in time are ordered by sequence, which differ).
        let a = PIT.rowTexts(one).sorted()
        let b = PIT.rowTexts(merged).sorted()
        let differing = zip(a, b).filter { $0 != $1 }.prefix(2)
        #expect(a == b, "\(columns.map(\.name)): \(Array(differing))")
    }

    @Test func asKnownAndEventTimeOnlyOnALateSequence() throws {
        var f = EventFactory(registry: registry)
        let at = EventFactory.at
        let store = PIT.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        try PIT.ingest([f.make(at(0)), f.make(at(6)), f.make(at(1)), f.make(at(7))], into: store)
        let times: [Micros] = [at(5), at(6.5), at(8)]
        let users = ["u1", "u1", "u1"]
        let spine = Spine(
            times: times, keys: [users, users.map { _ in nil }, users.map { _ in nil }],
            columns: [.string("user_id"), .timestamp("ts")],
            data: [ColumnData(.byteArray(users)), ColumnData(.int64(times))], timeColumn: 1)
        let (_, columns, known) = try PIT.build(store, spine: spine)
        let v = columns.firstIndex { $0.name == "user_views_5m" }!
        // As known: at 12:05 only 12:00 had arrived; at 12:06:30 the late 12:01 had (it arrived
        // when the clock was 12:06): [12:01, 12:06:30) holds 12:01 and 12:06. At 12:08 the window
        // [12:03, 12:08) holds 12:06 and 12:07 either way.
        #expect(PIT.doubles(known[v]) == [1, 2, 2])
        var options = BuildOptions()
        options.eventTimeOnly = true
        let (_, _, eventTime) = try PIT.build(store, options: options, spine: spine)
        #expect(PIT.doubles(eventTime[v]) == [2, 2, 2])
    }
}
