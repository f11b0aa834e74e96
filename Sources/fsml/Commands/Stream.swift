import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import OnlineStorage
import PointInTime
import Serving
import Streaming
import Workflows

struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fold events into fresh features in the online store, and keep them in the offline store.",
        discussion: """
            Each event is parsed and validated (failures go to dead_letters with their reason), admitted \
            (late events to late/, duplicates counted) and folded through the same time engine as `fsml build`. \
            Changed entity states go to the online store every --flush-interval; admitted events to the offline \
            store. A checkpoint (source position and every entity state) is written every --checkpoint-interval \
            and at SIGINT/SIGTERM; running the same command again resumes from it, nothing lost or counted twice. \
            Without a checkpoint, events already in the offline store are replayed first, so online states start \
            from the whole history. With --shards and a kafka:// source, the process is one member of a consumer \
            group whose partitions carry their entity states, watermarks and offline stores from member to member \
            (docs/scaling.md).
            """
    )

    @Option(
        help: ArgumentHelp(
            "The events: file:PATH (JSONL, .gz read too), a path, - for stdin, or kafka://HOST:PORT/TOPIC?group=G.",
            valueName: "source"))
    var source: String
    @Option(
        help: ArgumentHelp(
            "With kafka://...?group=G: the shard directory the group's members share; each partition's entity states move with it.",
            valueName: "dir"))
    var shards: String?
    @OptionGroup var job: StreamJobOptions
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        if let shards { return try runMember(shards: shards) }
        let registry = try global.loadRegistry()
        let built = try job.make(source: source, registry: registry, config: global.configPath, mirror: nil)
        defer { built.job.close() }
        StopSignal.install()
        let start = try built.job.start()
        StandardError.line(
            "fsml stream: \(Self.describe(start)) from \(built.spec); online \(built.online?.description ?? "none"), offline \(built.offline?.root ?? "none"), checkpoint \(built.job.checkpointPath)"
        )
        let report = try built.job.run()
        write(report, job: built.job)
        // The process ends next: freeing the job's states one by one (a million of them took a
        // twentieth of the job's CPU) is work the kernel does at once when it takes the pages back.
        _ = Unmanaged.passRetained(built.job)
    }

    static func describe(_ start: StreamStart) -> String {
        switch start {
        case .fresh: return "starting fresh"
        case .resumed(let line): return "resuming after \(Progress.count(line)) lines"
        case .bootstrapped(let events): return "replayed \(Progress.count(events)) events from the offline store"
        }
    }

    private func write(_ report: StreamReport, job: StreamJob) {
        switch output.format {
        case .json:
            StandardOutput.write(JSONText.render(report.json()) + "\n")
        case .table:
            let c = report.counts
            var table = TextTable(["STREAM", "VALUE"], rightAligned: [1])
            table.add(["lines", Progress.count(c.lines)])
            table.add(["events/s", Progress.count(Int(report.linesPerSecond))])
            table.add(["admitted", Progress.count(c.admitted)])
            table.add(["late", Progress.count(c.late)])
            table.add(["duplicates", Progress.count(c.duplicates)])
            table.add(["dead letters", Progress.count(c.deadLetters)])
            if c.waiting > 0 { table.add(["waiting (clock jump)", Progress.count(c.waiting)]) }
            table.add(["states written", Progress.count(report.statesWritten)])
            table.add(["entities held", Progress.count(report.entities)])
            if let q = report.freshness.quantiles([0.5, 0.99]) {
                table.add([
                    "freshness p50 / p99", "\(Progress.fixed(q[0] * 1000, 1)) / \(Progress.fixed(q[1] * 1000, 1)) ms",
                ])
            }
            if let q = report.onlineWrite.quantiles([0.5, 0.99]) {
                table.add([
                    "online write p50 / p99",
                    "\(Progress.fixed(q[0] * 1000, 2)) / \(Progress.fixed(q[1] * 1000, 2)) ms",
                ])
            }
            table.add(["checkpoint", job.checkpointPath])
            if c.deadLetters > 0 { table.add(["dead letters in", job.deadLetterPath]) }
            if c.late > 0 { table.add(["late events in", job.latePath]) }
            StandardOutput.write(table.render())
        }
    }
}

/// The stream job's flags, shared by `fsml stream` and `fsml serve --stream`.
struct StreamJobOptions: ParsableArguments {
    @Option(
        help:
            "The online store: redis://[:password@]host:port/db, redis+cluster://host:port[,host:port...]/ or sqlite:PATH (default: stores.online)."
    )
    var online: String?
    @Flag(help: "Write no online store.") var noOnline = false
    @Option(help: "The offline store directory (default: stores.offline).") var offline: String?
    @Flag(help: "Write no offline store (another job archives the events).") var noOffline = false
    @Option(help: "The checkpoint directory (default: data/checkpoints beside fsml.yaml).") var checkpoint: String?
    @Option(help: "Names the checkpoint and reject logs (default: stream, plus the entity kinds when split).")
    var name: String?
    @Option(help: "Fold only these entity kinds, comma-separated (default: all).") var entities: String?
    @Flag(help: "Stop at the end of the source instead of following it.") var untilEnd = false
    @Option(help: "Release at most this many events per second (default: as fast as possible).") var rate: Double?
    @Option(help: "Online micro-batch interval.") var flushInterval = "20ms"
    @Option(help: "Checkpoint interval.") var checkpointInterval = "5s"
    @Option(help: "Attempts at a failing online-store write before the job gives up (default: never gives up).")
    var storeRetries: Int?
    @Option(help: "The longest wait between attempts at a failing online-store write (backoff doubles up to it).")
    var storeRetryMax = "30s"
    @Option(help: "Stop after this many lines.") var maxLines: Int?
    @Option(help: "Serve Prometheus metrics on 127.0.0.1:PORT/metrics (0 picks a free port).") var metricsPort: Int?

    struct Built {
        var job: StreamJob
        var spec: SourceSpec
        var online: (any OnlineStore)?
        var offline: OfflineStore?
        var metrics: MetricsRegistry
    }

    /// The job for `source`; with a `mirror`, states are also written to that in-process store, and
    /// with `metrics` (a server's) the job's metrics are exported there.
    func make(
        source: String, registry: FeatureRegistry, config: String, mirror: MemoryOnlineStore?,
        metrics shared: MetricsRegistry? = nil
    ) throws -> Built {
        let kinds = try entityKinds(registry)
        let jobName =
            name ?? (["stream"] + (kinds.map { $0.map { registry.entities[$0].name } } ?? [])).joined(separator: "-")
        guard jobName.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !jobName.isEmpty else {
            throw ValidationError("--name '\(jobName)' may hold letters, digits, '-', '_' and '.' only")
        }
        let spec: SourceSpec
        do { spec = try SourceSpec.parse(source) } catch { throw ValidationError(error.description) }
        var options = StreamOptions(
            name: jobName,
            checkpointDirectory: checkpoint ?? ProjectPaths.resolve("data/checkpoints", config: config),
            rejectDirectory: ProjectPaths.resolve("data/rejects", config: config))
        options.flushInterval = try seconds(flushInterval, "--flush-interval")
        options.checkpointInterval = try seconds(checkpointInterval, "--checkpoint-interval")
        options.rate = rate
        options.entityKinds = kinds
        options.maxLines = maxLines
        if let storeRetries, storeRetries < 1 { throw ValidationError("--store-retries must be at least 1") }
        options.retry = RetryPolicy(
            initialDelay: 0.1, maxDelay: max(0.1, try seconds(storeRetryMax, "--store-retry-max")),
            maxAttempts: storeRetries)
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }

        let primary: (any OnlineStore)? = noOnline ? nil : try openOnline(registry: registry, config: config)
        let onlineStore: (any OnlineStore)? =
            mirror.map { MirroredOnlineStore(primary: primary, mirror: $0) } ?? primary
        let offlineStore =
            noOffline
            ? nil : OfflineStore(root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: config))
        let eventSource: any EventSource
        let maxLine = registry.schema.maxLineBytes
        switch spec {
        case .file(let path): eventSource = try FileSource(path: path, untilEnd: untilEnd, maxLineBytes: maxLine)
        case .stdin: eventSource = try FileSource(path: "-", untilEnd: true, maxLineBytes: maxLine)
        case .kafka(let address):
            eventSource = try KafkaSource(
                address: address, untilEnd: untilEnd, clientID: jobName, maxLineBytes: maxLine)
        }
        let metrics = shared ?? MetricsRegistry()
        if shared == nil {
            metrics.set(
                "fsml_build_info", 1, help: "The fsml version running.", labels: [("version", FsmlVersion.current)])
        }
        if let metricsPort {
            guard (0...65_535).contains(metricsPort) else {
                throw ValidationError("--metrics-port must be from 0 to 65535 (0 picks a free port)")
            }
            let port = try MetricsServer.start(metrics: metrics, port: metricsPort)
            StandardError.line("fsml stream: metrics on http://127.0.0.1:\(port)/metrics")
        }
        let job = StreamJob(
            registry: registry, source: eventSource, sourceName: spec.description, online: onlineStore,
            offline: offlineStore, options: options, metrics: metrics)
        return Built(job: job, spec: spec, online: onlineStore, offline: offlineStore, metrics: metrics)
    }

    /// The online store the flags name (default: stores.online in fsml.yaml).
    func openOnline(registry: FeatureRegistry, config: String, timeoutMillis: Int = 1000) throws -> any OnlineStore {
        try openOnlineStore(online, registry: registry, config: config, timeoutMillis: timeoutMillis)
    }

    func entityKinds(_ registry: FeatureRegistry) throws -> [Int]? {
        guard let entities else { return nil }
        var kinds: [Int] = []
        for name in entities.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let i = registry.entityIndex(name) else {
                throw ValidationError(
                    "--entities: no entity '\(name)' in \(registry.source) (\(registry.entities.map(\.name).joined(separator: ", ")))"
                )
            }
            if !kinds.contains(i) { kinds.append(i) }
        }
        guard !kinds.isEmpty else { throw ValidationError("--entities names no entity") }
        return kinds.sorted()
    }

    func seconds(_ text: String, _ option: String) throws -> Double {
        guard let micros = DurationText.parse(text), micros > 0 else {
            throw ValidationError("\(option): '\(text)' is not a duration (like 20ms, 5s)")
        }
        return Double(micros) / 1e6
    }

}

/// The online store `url` names (default: stores.online in fsml.yaml); a SQLite path is relative to
/// fsml.yaml. What every command that reads or writes the online store opens it with.
func openOnlineStore(
    _ url: String?, registry: FeatureRegistry, config: String, timeoutMillis: Int = 1000
) throws -> any OnlineStore {
    let text = url ?? registry.stores.online
    let parsed: OnlineStoreURL
    do { parsed = try OnlineStoreURL.parse(text) } catch { throw CLIError("online store: \(error.description)") }
    let resolved: OnlineStoreURL
    if case .sqlite(let path) = parsed {
        resolved = .sqlite(path: ProjectPaths.resolve(path, config: config))
    } else {
        resolved = parsed
    }
    return try OnlineStores.open(
        resolved, project: registry.project, entities: registry.entities, timeoutMillis: timeoutMillis)
}
