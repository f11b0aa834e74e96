import ArgumentParser
import FeatureCore
import FsmlCore
import OfflineStorage
import OnlineStorage
import Serving
import Streaming
import Workflows

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
        let eventSource = try spec.open(
            untilEnd: untilEnd, clientID: jobName, maxLineBytes: registry.schema.maxLineBytes)
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
        try ProjectStores.online(online, registry: registry, config: config, timeoutMillis: timeoutMillis)
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
