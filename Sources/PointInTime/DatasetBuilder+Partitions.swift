import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import Parquet

extension DatasetBuilder {
    /// A labelled build in `count` entity-hash partitions (`EntityPartition`), one after the other:
    /// each finds its examples, replays the store for their keys and spills its rows, in example
    /// order, to a file of its own beside the output; the spills are then merged by (time,
    /// sequence) into the output. Memory holds one partition's examples, keys and states, and a row
    /// group per spill; the dataset is the one an unpartitioned build writes, byte for byte.
    func buildPartitioned(
        labels: LabelRule, files: [OfflineStore.DataFile], field: Int, count: Int, into writer: DatasetWriter
    ) throws -> BuildReport {
        let directory = "\(writer.path).partitions-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let columns = exampleColumns
        let spillColumns =
            columns + [
                ParquetColumn(name: "_time", physical: .int64, optional: false),
                ParquetColumn(name: "_seq", physical: .int64, optional: false),
            ]
        var report = BuildReport()
        var paths: [String] = []
        for index in 0..<count {
            let path = "\(directory)/part-\(index).parquet"
            let spill = try DatasetWriter(
                path: path, format: .parquet, columns: spillColumns, codec: .uncompressed, dictionary: false,
                hashed: false)
            spill.groupRows = writer.groupRows
            let output = RowBuffer(columns: columns, features: features.count, writer: spill, ordered: true)
            let part = try buildRows(
                labels: labels, files: files, partition: EntityPartition(field: field, count: count, index: index),
                output: output)
            try output.finish()
            try spill.close()
            paths.append(path)
            progress?.update(part.eventsReplayed, detail: "partition \(index + 1) of \(count)")
            report.add(part)
        }
        try SpillMerge(paths: paths, columns: columns.count).merge(into: writer)
        report.partitions = count
        return report
    }
}

extension BuildReport {
    /// Adds a partition's report: its counts add up; the store's files, features, events and
    /// final watermark are every partition's.
    mutating func add(_ part: BuildReport) {
        rows += part.rows
        positives += part.positives
        immature += part.immature
        examples += part.examples
        eventsReplayed = part.eventsReplayed
        settledUntil = part.settledUntil
        files = part.files
        features = part.features
        if let t = part.firstExample { firstExample = min(firstExample ?? t, t) }
        if let t = part.lastExample { lastExample = max(lastExample ?? t, t) }
    }
}

/// Merges partitions' spills (each in (time, sequence) order, with those as its last two columns)
/// into one dataset in that order, in row groups of the writer's `groupRows`, as an unpartitioned
/// build hands them to the writer.
struct SpillMerge {
    let paths: [String]
    /// The dataset's columns (the spills' first ones).
    let columns: Int

    private struct Cursor {
        let reader: ParquetReader
        var group = -1
        /// Its index in `groups` of the merge.
        var slot = -1
        var times: [Int64] = []
        var sequences: [Int64] = []
        var row = 0
    }

    func merge(into writer: DatasetWriter) throws {
        var cursors: [Cursor] = []
        // The row groups the current batch takes rows from (a cursor's spent ones go on the next
        // batch's start).
        var groups: [[ColumnData]] = []
        func advance(_ cursor: inout Cursor) throws -> Bool {
            while cursor.group + 1 < cursor.reader.rowGroups.count {
                cursor.group += 1
                let data = try cursor.reader.read(rowGroup: cursor.group)
                guard case .int64(let times) = data[columns].values,
                    case .int64(let sequences) = data[columns + 1].values
                else { throw BuildError(description: "\(cursor.reader.path): not a build's spill") }
                cursor.times = times
                cursor.sequences = sequences
                cursor.row = 0
                cursor.slot = groups.count
                groups.append(Array(data.prefix(columns)))
                if !times.isEmpty { return true }
            }
            return false
        }
        for path in paths {
            var cursor = Cursor(reader: try ParquetReader(path: path))
            if try advance(&cursor) { cursors.append(cursor) }
        }
        var picks: [(slot: Int32, row: Int32)] = []
        picks.reserveCapacity(writer.groupRows)
        func flush() throws {
            guard !picks.isEmpty else { return }
            try writer.append((0..<columns).map { gather(column: $0, groups: groups, picks: picks) })
            picks.removeAll(keepingCapacity: true)
            // Keep only the groups the cursors are in, renumbered.
            var kept: [[ColumnData]] = []
            for i in cursors.indices {
                kept.append(groups[cursors[i].slot])
                cursors[i].slot = kept.count - 1
            }
            groups = kept
        }
        while !cursors.isEmpty {
            // Few partitions: the least head by a scan.
            var best = 0
            for i in 1..<cursors.count {
                let (a, b) = (cursors[i], cursors[best])
                if (a.times[a.row], a.sequences[a.row]) < (b.times[b.row], b.sequences[b.row]) { best = i }
            }
            picks.append((Int32(cursors[best].slot), Int32(cursors[best].row)))
            cursors[best].row += 1
            if cursors[best].row == cursors[best].times.count, try !advance(&cursors[best]) {
                cursors.remove(at: best)
            }
            if picks.count == writer.groupRows { try flush() }
        }
        try flush()
    }

    /// One output column: the picked rows of the groups' column, in order.
    private func gather(column c: Int, groups: [[ColumnData]], picks: [(slot: Int32, row: Int32)]) -> ColumnData {
        func take<T>(_ extract: (ColumnValues) -> [T]) -> [T] {
            let arrays = groups.map { extract($0[c].values) }
            return picks.map { arrays[Int($0.slot)][Int($0.row)] }
        }
        let nullArrays = groups.map { $0[c].nulls }
        let nulls = picks.map { nullArrays[Int($0.slot)]?[Int($0.row)] ?? false }
        let values: ColumnValues
        switch groups[Int(picks[0].slot)][c].values {
        case .boolean:
            values = .boolean(
                take {
                    guard case .boolean(let v) = $0 else { return [] }
                    return v
                })
        case .int32:
            values = .int32(
                take {
                    guard case .int32(let v) = $0 else { return [] }
                    return v
                })
        case .int64:
            values = .int64(
                take {
                    guard case .int64(let v) = $0 else { return [] }
                    return v
                })
        case .float:
            values = .float(
                take {
                    guard case .float(let v) = $0 else { return [] }
                    return v
                })
        case .double:
            values = .double(
                take {
                    guard case .double(let v) = $0 else { return [] }
                    return v
                })
        case .byteArray:
            values = .byteArray(
                take {
                    guard case .byteArray(let v) = $0 else { return [] }
                    return v
                })
        }
        return ColumnData(values, nulls: nulls)
    }
}
