import FeatureCore
import Foundation
import FsmlCore
import Parquet

/// The offline store: every admitted event, in Parquet, partitioned Hive-style by event date:
///
///     <root>/events/event_date=2025-01-15/part-000000000000.parquet
///
/// A file's name is the arrival sequence of its first event, and its rows are in arrival order,
/// so merging files by `_seq` replays the stream exactly as it was admitted. Files appear only
/// when complete (written beside, then renamed). `<root>/dead_letters/` and `<root>/late/` hold
/// the lines and events that were not admitted; `<root>/_state.json` what a later writer needs to
/// carry on (the next sequence number and the admission state).
public struct OfflineStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public var eventsDirectory: String { "\(root)/events" }
    public var deadLetterDirectory: String { "\(root)/dead_letters" }
    public var lateDirectory: String { "\(root)/late" }
    public var statePath: String { "\(root)/_state.json" }

    public static func partitionName(day: Int) -> String {
        let (y, m, d) = Timestamp.civilFromDays(day)
        func pad(_ v: Int, _ w: Int) -> String {
            String(repeating: "0", count: max(0, w - String(v).count)) + String(v)
        }
        return "event_date=\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    public static func day(of time: Micros) -> Int { Int(Timestamp.floorDiv(time, Timestamp.microsPerDay)) }

    /// One complete data file.
    public struct DataFile: Sendable, Equatable {
        public var path: String
        public var day: Int
        public var firstSequence: Int64
        public var bytes: Int
        /// Which of a group's member stores holds the file (0 in a store of its own).
        public var member = 0

        /// Added to the sequences read from the file: a group's members number their events
        /// each from 0, and a build over all of them needs one sequence per event.
        public var sequenceOffset: Int64 { Int64(member) << OfflineStore.memberSequenceBits }
    }

    /// A member's sequences stay below 2^40 (a trillion events), under its offset.
    public static let memberSequenceBits: Int64 = 40

    /// The member stores of a consumer group's offline data: the `partition-<p>/` stores under
    /// `root` (`fsml stream --shards` writes one per Kafka partition), in partition order, when
    /// `root` holds no events of its own; empty otherwise.
    public var members: [OfflineStore] {
        guard !FileSystem.isDirectory(eventsDirectory),
            let names = try? FileManager.default.contentsOfDirectory(atPath: root)
        else { return [] }
        return
            names
            .compactMap { name -> (Int, OfflineStore)? in
                guard name.hasPrefix("partition-"), let p = Int(name.dropFirst("partition-".count)),
                    FileSystem.isDirectory("\(root)/\(name)/events")
                else { return nil }
                return (p, OfflineStore(root: Self.memberDirectory(base: root, partition: p)))
            }
            .sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A member store's directory under a group's base directory.
    public static func memberDirectory(base: String, partition: Int) -> String { "\(base)/partition-\(partition)" }

    /// Where the intake states are: this store's, or each member's.
    public var statePaths: [String] {
        let members = self.members
        return members.isEmpty ? [statePath] : members.map(\.statePath)
    }

    /// The store's files, optionally only the partitions that can hold events with event time in
    /// [from, to); in order of day, then first sequence. A group's: every member's, in order of
    /// day, then member, then first sequence.
    public func files(from: Micros? = nil, to: Micros? = nil) throws -> [DataFile] {
        let members = self.members
        if !members.isEmpty {
            var out: [DataFile] = []
            for (m, store) in members.enumerated() {
                out += try store.files(from: from, to: to).map {
                    var file = $0
                    file.member = m
                    return file
                }
            }
            return out.sorted { ($0.day, $0.member, $0.firstSequence) < ($1.day, $1.member, $1.firstSequence) }
        }
        guard FileSystem.isDirectory(eventsDirectory) else { return [] }
        let fm = FileManager.default
        var out: [DataFile] = []
        for partition in try fm.contentsOfDirectory(atPath: eventsDirectory).sorted()
        where partition.hasPrefix("event_date=") {
            guard case .success(let start) = Timestamp.parseDateOrTime(String(partition.dropFirst("event_date=".count)))
            else {
                continue
            }
            let day = Self.day(of: start)
            if let from, Micros(day + 1) * Timestamp.microsPerDay <= from { continue }
            if let to, Micros(day) * Timestamp.microsPerDay >= to { continue }
            let dir = "\(eventsDirectory)/\(partition)"
            for name in try fm.contentsOfDirectory(atPath: dir)
            where name.hasPrefix("part-") && name.hasSuffix(".parquet") {
                guard let first = Int64(name.dropFirst("part-".count).dropLast(".parquet".count)) else { continue }
                out.append(
                    DataFile(
                        path: "\(dir)/\(name)", day: day, firstSequence: first,
                        bytes: FileSystem.fileSize("\(dir)/\(name)") ?? 0))
            }
        }
        return out.sorted { ($0.day, $0.firstSequence) < ($1.day, $1.firstSequence) }
    }

    /// Removes files a crashed writer left half-written, and files holding events from sequence
    /// `from` on (written after the last commit a restarted writer carries on from).
    public func removeUncommitted(from sequence: Int64? = nil) throws {
        guard FileSystem.isDirectory(eventsDirectory) else { return }
        let fm = FileManager.default
        for partition in try fm.contentsOfDirectory(atPath: eventsDirectory) {
            let dir = "\(eventsDirectory)/\(partition)"
            for name in try fm.contentsOfDirectory(atPath: dir) {
                let stale = name.contains(".tmp-")
                let uncommitted =
                    sequence.map { s in
                        name.hasPrefix("part-") && (Int64(name.dropFirst(5).dropLast(8)) ?? -1) >= s
                    } ?? false
                if stale || uncommitted { try fm.removeItem(atPath: "\(dir)/\(name)") }
            }
        }
    }
}

/// Appends admitted events to the offline store. Rows are buffered per partition and written as
/// row groups; a file is closed (and becomes visible) when it reaches the target size or on
/// `commit()`.
public final class OfflineStoreWriter {
    public let store: OfflineStore
    let layout: OfflineSchema
    public let rowGroupRows: Int
    public let targetFileBytes: Int
    public let codec: ParquetCodec

    private final class Partition {
        var columns: EventColumns
        var writer: ParquetWriter?
        var firstSequence: Int64 = -1
        init(layout: OfflineSchema) { columns = EventColumns(layout: layout) }
    }

    private var partitions: [Int: Partition] = [:]
    /// The partition of the last event: the next is almost always of the same day (a hash less per event).
    private var last: (day: Int, partition: Partition)?
    public private(set) var filesWritten: [String] = []
    public private(set) var rowsWritten = 0
    /// Decides whether each file may become visible (`FileWriter.publishGate`).
    public var publishGate: (@Sendable (_ move: () throws -> Void) throws -> Void)?
    /// Encodes and writes row groups on another thread, when asked for (the stream job and ingest,
    /// whose own thread is busy parsing and folding).
    private let encoder: SerialWorker?

    public init(
        store: OfflineStore, schema: EventSchema, rowGroupRows: Int = 65_536, targetFileBytes: Int = 128 << 20,
        codec: ParquetCodec = .snappy, background: Bool = false
    ) {
        self.store = store
        layout = OfflineSchema(schema: schema)
        self.rowGroupRows = rowGroupRows
        self.targetFileBytes = targetFileBytes
        self.codec = codec
        encoder = background ? SerialWorker(name: "fsml-parquet-encoder") : nil
    }

    deinit { encoder?.stop() }

    public func append(_ stored: StoredEvent) throws {
        let day = OfflineStore.day(of: stored.event.time)
        let partition: Partition
        if let last, last.day == day {
            partition = last.partition
        } else if let p = partitions[day] {
            partition = p
            last = (day, p)
        } else {
            partition = Partition(layout: layout)
            partitions[day] = partition
            last = (day, partition)
        }
        if partition.columns.count == 0 && partition.writer == nil { partition.firstSequence = stored.sequence }
        partition.columns.append(stored)
        rowsWritten += 1
        if partition.columns.count >= rowGroupRows { try flush(day: day, partition) }
    }

    private func flush(day: Int, _ partition: Partition) throws {
        guard partition.columns.count > 0 else { return }
        if partition.writer == nil {
            let name = String(format: "part-%012lld.parquet", partition.firstSequence)
            let path = "\(store.eventsDirectory)/\(OfflineStore.partitionName(day: day))/\(name)"
            partition.writer = try ParquetWriter(
                path: path, columns: layout.columns, codec: codec,
                metadata: [("fsml.offline_schema", layout.fingerprint), ("fsml.version", FsmlVersion.current)])
            partition.writer!.publishGate = publishGate
        }
        let writer = partition.writer!
        let rows = partition.columns.take()
        if let encoder {
            try encoder.submit { try writer.write(rowGroup: rows) }
        } else {
            try writer.write(rowGroup: rows)
        }
        if writer.bytesWritten >= targetFileBytes { try close(partition) }
    }

    private func close(_ partition: Partition) throws {
        guard let writer = partition.writer else { return }
        partition.writer = nil
        filesWritten.append(writer.path)
        if let encoder { try encoder.submit { _ = try writer.close() } } else { _ = try writer.close() }
    }

    /// Writes every buffered row and closes every open file: all appended events are now in
    /// complete files.
    public func commit() throws {
        for (day, partition) in partitions.sorted(by: { $0.key < $1.key }) {
            try flush(day: day, partition)
            try close(partition)
        }
        partitions.removeAll()
        last = nil
        try encoder?.drain()
    }
}

/// Reads the store's events back in arrival order (merging files by `_seq`). Each file's next row
/// group is read and decoded on a worker thread while the caller goes through the current one, so
/// at most two row groups per file are in memory; a file is first read when the merge reaches its
/// first sequence (its name), and let go at its end, so only the files whose events interleave
/// at that point of the replay (a day's file and a late day's) hold rows.
public final class OfflineStoreScanner {
    private struct Cursor {
        let reader: ParquetReader
        let decoder: EventDecoder
        /// The sequence of the file's first event, its key in the merge until it is read.
        let firstSequence: Int64
        let sequenceOffset: Int64
        var loaded = false
        var group = 0
        var rows: [StoredEvent] = []
        var next = 0
        /// The decoded rows of row group `group`, being read on the worker.
        var ahead: Promise<[StoredEvent]>?
    }

    private var cursors: [Cursor] = []
    /// Indexes of cursors ordered by their next event's sequence (a small binary heap).
    private var heap: [Int] = []
    public private(set) var files: [OfflineStore.DataFile]
    public private(set) var eventsRead = 0
    private let worker: SerialWorker
    /// A group's members, each read in its own arrival order, merged by known-at time (then by
    /// member): each member's stream clock only goes forward, so the merge keeps every member's
    /// order and meets events in the order a clock over them all would have.
    private var members: [OfflineStoreScanner] = []
    private var heads: [StoredEvent?] = []

    /// Reads only `fields` (schema field indexes; all when nil): the rest of each event stays missing.
    public convenience init(
        store: OfflineStore, schema: EventSchema, from: Micros? = nil, to: Micros? = nil, fields: Set<Int>? = nil
    ) throws {
        try self.init(files: try store.files(from: from, to: to), schema: schema, fields: fields)
    }

    /// Reads the given data files of a store (`OfflineStore.files()`), merged in arrival order.
    public init(files: [OfflineStore.DataFile], schema: EventSchema, fields: Set<Int>? = nil) throws {
        self.files = files
        let memberIndexes = Set(files.map(\.member)).sorted()
        if memberIndexes.count > 1 {
            worker = SerialWorker(name: "fsml-store-scan", depth: 1)
            members = try memberIndexes.map { m in
                try OfflineStoreScanner(files: files.filter { $0.member == m }, schema: schema, fields: fields)
            }
            heads = try members.map { try $0.next() }
            return
        }
        // Each file has at most one read ahead in the queue, so submitting never waits.
        worker = SerialWorker(name: "fsml-store-scan", depth: files.count + 1)
        let layout = OfflineSchema(schema: schema)
        for file in files {
            let reader = try ParquetReader(path: file.path)
            let decoder = try EventDecoder(layout: layout, fileColumns: reader.columns, path: file.path, fields: fields)
            cursors.append(
                Cursor(
                    reader: reader, decoder: decoder, firstSequence: file.firstSequence + file.sequenceOffset,
                    sequenceOffset: file.sequenceOffset))
        }
        heap = Array(cursors.indices)
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    deinit { worker.stop() }

    /// Moves the cursor to its next row group with rows; false at the end of its file. A reader is
    /// only ever used by one thread at a time: the worker reads ahead only after the caller is done.
    private func load(_ cursor: inout Cursor) throws -> Bool {
        while cursor.group < cursor.reader.rowGroups.count {
            let group = cursor.group
            cursor.rows =
                try cursor.ahead?.wait()
                ?? Self.decode(cursor.reader, cursor.decoder, group: group, offset: cursor.sequenceOffset)
            cursor.ahead = nil
            cursor.group += 1
            cursor.next = 0
            if cursor.group < cursor.reader.rowGroups.count {
                let (reader, decoder, next, offset, promise) = (
                    cursor.reader, cursor.decoder, cursor.group, cursor.sequenceOffset, Promise<[StoredEvent]>()
                )
                cursor.ahead = promise
                try worker.submit {
                    promise.fulfill(Result { try Self.decode(reader, decoder, group: next, offset: offset) })
                }
            }
            if !cursor.rows.isEmpty { return true }
        }
        cursor.rows = []
        return false
    }

    private static func decode(
        _ reader: ParquetReader, _ decoder: EventDecoder, group: Int, offset: Int64
    ) throws -> [StoredEvent] {
        var rows = try decoder.decode(
            try reader.read(rowGroup: group, columns: decoder.columnsToRead), path: reader.path)
        if offset != 0 { for i in rows.indices { rows[i].sequence += offset } }
        return rows
    }

    private func key(_ i: Int) -> Int64 {
        cursors[i].loaded ? cursors[i].rows[cursors[i].next].sequence : cursors[i].firstSequence
    }

    private func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var smallest = i
            if l < heap.count && key(heap[l]) < key(heap[smallest]) { smallest = l }
            if r < heap.count && key(heap[r]) < key(heap[smallest]) { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }

    private func nextOfMembers() throws -> StoredEvent? {
        var best: Int?
        for (i, head) in heads.enumerated() {
            guard let head else { continue }
            if let b = best, let current = heads[b],
                (current.knownAt, current.sequence) <= (head.knownAt, head.sequence)
            {
                continue
            }
            best = i
        }
        guard let best else { return nil }
        let event = heads[best]
        heads[best] = try members[best].next()
        eventsRead += 1
        return event
    }

    /// Every event of one data file, in its row order (arrival order within the file), decoded
    /// into one event reused from row to row: for a pass that looks at each event once and keeps
    /// none of them (keep what you need, not the event). Returns the number of rows.
    @discardableResult
    public static func forEach(
        in file: OfflineStore.DataFile, schema: EventSchema, fields: Set<Int>? = nil,
        _ body: (_ event: Event, _ sequence: Int64, _ knownAt: Micros) throws -> Void
    ) throws -> Int {
        let reader = try ParquetReader(path: file.path)
        let decoder = try EventDecoder(
            layout: OfflineSchema(schema: schema), fileColumns: reader.columns, path: file.path, fields: fields)
        var event = Event(time: 0, values: [])
        let offset = file.sequenceOffset
        for g in reader.rowGroups.indices {
            let data = try reader.read(rowGroup: g, columns: decoder.columnsToRead)
            if offset == 0 {
                try decoder.forEachRow(data, path: file.path, event: &event, body)
            } else {
                try decoder.forEachRow(data, path: file.path, event: &event) { try body($0, $1 + offset, $2) }
            }
        }
        return reader.numRows
    }

    /// What a row group holds in place of an event `next` handed over (its values allocate nothing).
    private static let taken = StoredEvent(event: Event(time: 0, values: []), sequence: -1, knownAt: 0)

    /// The next event in arrival order, or nil at the end.
    public func next() throws -> StoredEvent? {
        if !members.isEmpty { return try nextOfMembers() }
        // The merge has reached a file not read yet: its first row group, then its place again.
        while let top = heap.first, !cursors[top].loaded {
            cursors[top].loaded = true
            if try !load(&cursors[top]) {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
            if !heap.isEmpty { siftDown(0) }
        }
        guard let top = heap.first else { return nil }
        // Moved out, not copied: the row group would hold the event's values until its end, and
        // the copy cost a retain here and a release there.
        var event = Self.taken
        swap(&event, &cursors[top].rows[cursors[top].next])
        cursors[top].next += 1
        if cursors[top].next == cursors[top].rows.count {
            if try !load(&cursors[top]) {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
        }
        if !heap.isEmpty { siftDown(0) }
        eventsRead += 1
        return event
    }
}
