import ArgumentParser
import FeatureCore
import FsmlCore
import OfflineStorage
import PointInTime
import Workflows

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a point-in-time correct training set from the offline store.",
        discussion: """
            Without --spine, every example event of the label definition in [--start, --end) becomes \
            a row with its label; examples whose label is not settled yet are left out and counted. With --spine, \
            each row of the spine (entity keys and a timestamp, CSV or Parquet) gets the features. Every feature is \
            computed as of the row's time by the same engine the server uses: from events known before that time \
            (--event-time-only: every admitted event before it), missing (null) when the entity is unknown or \
            expired. Writes NAME.manifest.json beside the dataset.
            """
    )

    @Option(help: "The dataset to write (.parquet or .csv).") var out: String
    @Option(help: "Earliest example time, ISO-8601 UTC.") var start: String?
    @Option(help: "End of the example times (exclusive), ISO-8601 UTC.") var end: String?
    @Option(help: "Compute features for the keys and times in this file instead of labelled examples.") var spine:
        String?
    @Option(help: "The spine's timestamp column (default: event_timestamp, timestamp or the event time field).")
    var timeColumn: String?
    @Flag(help: "Use every admitted event before a row's time, not only those known by then.") var eventTimeOnly = false
    @Option(name: .customLong("format"), help: "parquet or csv (default: from --out).") var dataFormat: DatasetFormat?
    @Option(
        help: """
            The offline store directory (default: stores.offline in fsml.yaml); a consumer group's directory of \
            partition-N stores (`fsml stream --shards`) is read as one.
            """)
    var offline: String?
    @Option(
        help: ArgumentHelp(
            "Memory a labelled build may hold, in MiB: beyond it, the examples are built in entity-hash partitions, one at a time (default: half of the machine's or its container's memory).",
            valueName: "MiB"))
    var memoryBudget: Int?
    @Option(help: "Build labelled examples in this many entity-hash partitions (default: from --memory-budget).")
    var partitions: Int?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if let partitions, partitions < 1 { throw ValidationError("--partitions must be at least 1") }
        if let memoryBudget, memoryBudget < 1 { throw ValidationError("--memory-budget must be at least 1 MiB") }
    }

    func run() throws {
        let registry = try global.loadRegistry()
        let store = OfflineStore(
            root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: global.configPath))
        var options = BuildOptions()
        options.start = try start.map { try parseTimeOption($0, "--start") }
        options.end = try end.map { try parseTimeOption($0, "--end") }
        options.eventTimeOnly = eventTimeOnly
        options.partitions = partitions
        if let memoryBudget { options.memoryBudget = memoryBudget << 20 }
        let format = dataFormat ?? (out.hasSuffix(".csv") ? .csv : .parquet)
        let built = try DatasetBuild.run(
            registry: registry, store: store, options: options, out: out, format: format, spine: spine,
            timeColumn: timeColumn)
        let report = built.report
        let seconds = built.seconds
        let manifestPath = built.manifestPath
        let kind = spine == nil ? "examples" : "spine"
        var table = TextTable(["BUILT \(out)", "VALUE"], rightAligned: [1])
        table.add(["rows", Progress.count(report.rows)])
        if kind == "examples" {
            table.add(["positive labels", Progress.count(report.positives)])
            table.add([
                "label rate", report.rows > 0 ? Progress.fixed(Double(report.positives) / Double(report.rows), 4) : "-",
            ])
            table.add(["immature examples left out", Progress.count(report.immature)])
        }
        table.add(["features", "\(report.features.count)"])
        table.add(["events replayed", Progress.count(report.eventsReplayed)])
        if report.partitions > 1 { table.add(["partitions (--memory-budget)", "\(report.partitions)"]) }
        table.add(["seconds", Progress.fixed(seconds, 2)])
        table.add(["peak RSS MiB", "\(peakRSSBytes() / 1_048_576)"])
        table.add(["manifest", manifestPath])
        StandardOutput.write(table.render())
    }
}

extension DatasetFormat: ExpressibleByArgument {}
