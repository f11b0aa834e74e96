import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import PointInTime
import Workflows

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
        let result = try BatchIngest(registry: registry, store: store).run(
            path: path, source: source, progress: Progress("ingest"))
        let c = result.counts
        let rows: [(String, Int)] = [
            ("lines", c.lines), ("admitted", c.admitted), ("late", c.late), ("duplicates", c.duplicates),
            ("dead_letters", c.deadLetters), ("waiting", c.waiting), ("files_written", result.filesWritten),
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
