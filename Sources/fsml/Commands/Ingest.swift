import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import PointInTime

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load events into the offline store in batch, through the stream job's admission.",
        discussion: """
            Lines are parsed and validated (failures go to <offline>/dead_letters with their reason), admitted \
            (late events to <offline>/late, duplicates counted), numbered in arrival order and written to Parquet \
            partitioned by event date. A later ingest or the stream job carries on from <offline>/_state.json.
            """
    )

    @Option(
        help: ArgumentHelp("The events: file:PATH (JSONL, .gz read too), a path, or - for stdin.", valueName: "source"))
    var source: String
    @Option(help: "The offline store directory (default: stores.offline in fsml.yaml).") var offline: String?
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let registry = try global.loadRegistry()
        let store = OfflineStore(
            root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: global.configPath))
        let path = source.hasPrefix("file:") ? String(source.dropFirst("file:".count)) : source
        let previous = try IntakeState.load(path: store.statePath)
        if previous == nil, try !store.files().isEmpty {
            throw CLIError(
                "\(store.root) holds events but no _state.json; ingest into an empty store or restore its state")
        }
        // Files from after the last commit of a crashed writer would be counted twice: drop them.
        try store.removeUncommitted(from: previous?.nextSequence)
        if previous == nil {
            // A store that holds files always holds a state, so that a crash is told from a foreign store.
            try IntakeState(
                nextSequence: 0, admission: Admission(lateness: registry.allowedLateness), counts: IntakeCounts()
            )
            .save(to: store.statePath)
        }
        var intake = Intake(
            schema: registry.schema, lateness: registry.allowedLateness, nextSequence: previous?.nextSequence ?? 0,
            admission: previous?.admission)
        if let previous { intake.counts = previous.counts }
        let before = intake.counts
        let runName = "ingest-\(Timestamp.format(wallClockMicros()).replacingOccurrences(of: ":", with: ""))"
        let deadLetters = RejectLog(directory: store.deadLetterDirectory, name: runName)
        let late = RejectLog(directory: store.lateDirectory, name: runName)
        let writer = OfflineStoreWriter(store: store, schema: registry.schema, background: true)
        let reader = try LineReader(path: path)
        let progress = Progress("ingest")
        while let line = try reader.next() {
            switch intake.take(line) {
            case .admitted(let stored): try writer.append(stored)
            case .late(let event, let watermark):
                try late.late(
                    event: event, schema: registry.schema, watermark: watermark, raw: line, source: source,
                    line: reader.linesRead)
            case .duplicate: break
            case .deadLetter(let error):
                try deadLetters.deadLetter(reason: error.reason, raw: line, source: source, line: reader.linesRead)
            }
            if reader.linesRead % 100_000 == 0 { progress.update(reader.linesRead) }
        }
        try writer.commit()
        try deadLetters.close()
        try late.close()
        try IntakeState(nextSequence: intake.nextSequence, admission: intake.admission, counts: intake.counts).save(
            to: store.statePath)
        progress.finish(reader.linesRead)
        let c = intake.counts
        let rows: [(String, Int)] = [
            ("lines", c.lines - before.lines), ("admitted", c.admitted - before.admitted),
            ("late", c.late - before.late),
            ("duplicates", c.duplicates - before.duplicates), ("dead_letters", c.deadLetters - before.deadLetters),
            ("files_written", writer.filesWritten.count),
        ]
        switch output.format {
        case .json:
            StandardOutput.write(
                JSONText.render(.object([("offline_store", .string(store.root))] + rows.map { ($0.0, .int($0.1)) }))
                    + "\n")
        case .table:
            var table = TextTable(["INGESTED INTO \(store.root)", "COUNT"], rightAligned: [1])
            for (k, v) in rows { table.add([k, Progress.count(v)]) }
            StandardOutput.write(table.render())
        }
    }
}

/// Paths in fsml.yaml are relative to the directory that holds it.
enum ProjectPaths {
    static func resolve(_ path: String, config: String) -> String {
        if path.hasPrefix("/") { return path }
        let dir = (config as NSString).deletingLastPathComponent
        return dir.isEmpty ? path : "\(dir)/\(path)"
    }
}
