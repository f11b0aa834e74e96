import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore
import Logging
import OnlineStorage
import ServiceLifecycle
import Serving
import Streaming
import Tracking
import Workflows

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the promoted model and the features over HTTP.",
        discussion: """
            Loads the run an experiment's alias points to (checksum verified), follows the alias (every second, \
            and at SIGHUP) and swaps models without failing requests in flight. Without --stream, entity states \
            are read from the online store (one round trip per request; --budget is the store's timeout, past \
            which the answer is scored without features and marked degraded; while the store fails, no request \
            waits on it and /readyz answers 503 until a background probe finds it again). With --stream SOURCE, \
            the stream job runs in this process (the flags of `fsml stream`) and requests read its memory; it \
            still writes the online store, and a job that fails is restarted from its checkpoint. Endpoints: POST /predict, POST /rank, GET /features/{entity}/{id}, /healthz, \
            /readyz, /metrics.
            """
    )

    @Option(help: "The address to bind.") var host = "127.0.0.1"
    @Option(help: "The port (0 picks a free one).") var port = 8080
    @Option(help: "The experiment whose alias is served.") var experiment = "ctr"
    @Option(help: "The alias to follow.") var alias = "production"
    @Option(help: "Run the stream job from this source inside the server (as `fsml stream --source`).")
    var stream: String?
    @Option(help: "The online store's read budget (its timeout).") var budget = "20ms"
    @Option(
        help: """
            How long hot entity states read from the store stay in a cache (at most 1s; 0 turns it off; none with \
            --stream).
            """)
    var cacheTTL = "500ms"
    @Option(help: "Connections to the online store.") var connections = 4
    @Option(
        help: "How long a client may take to send a request's head, and then its body; idle connections close after it."
    )
    var requestTimeout = "10s"
    @Option(help: "Client connections at once (default: from the open-file limit); more wait to be accepted.")
    var maxConnections: Int?
    @Option(help: "What 'now' is: stream (the stream's event-time clock, for replayed data) or wall.")
    var clock: ServingClock = .stream
    @Option(help: "Log this fraction of served feature vectors (0 turns the log off).") var logSample = 0.01
    @Option(help: "Where the served-feature log goes (default: data/served beside fsml.yaml).") var logDir: String?
    @Option(help: "Write the bound port to this file once listening (for scripts using --port 0).") var portFile:
        String?
    @OptionGroup var job: StreamJobOptions
    @OptionGroup var tracking: TrackingOptions
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let registry = try global.loadRegistry()
        let config = global.configPath
        let budgetMicros = DurationText.parse(budget) ?? 0
        guard budgetMicros > 0 else { throw ValidationError("--budget: '\(budget)' is not a duration") }
        guard let cacheMicros = DurationText.parse(cacheTTL) ?? (cacheTTL == "0" ? 0 : nil) else {
            throw ValidationError("--cache-ttl: '\(cacheTTL)' is not a duration")
        }
        guard let timeout = DurationText.parse(requestTimeout), timeout > 0 else {
            throw ValidationError("--request-timeout: '\(requestTimeout)' is not a duration")
        }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        let limits = ServeHTTP.Limits(
            headTimeout: Double(timeout) / 1e6, bodyTimeout: Double(timeout) / 1e6, maxConnections: maxConnections)
        let models = try ModelHandle(store: tracking.store, experiment: experiment, alias: alias, registry: registry)
        let metrics = MetricsRegistry()

        var runner: StreamJobRunner?
        let stores: [any OnlineStore]
        let probe: any OnlineStore
        if let stream {
            let (streamRunner, mirror) = try inProcessStream(stream, registry: registry, metrics: metrics)
            runner = streamRunner
            stores = [mirror]
            probe = mirror
        } else {
            let timeout = max(1, Int(budgetMicros / 1000))
            stores = try (0..<max(1, connections)).map { _ in
                try job.openOnline(registry: registry, config: config, timeoutMillis: timeout)
            }
            probe = try job.openOnline(registry: registry, config: config, timeoutMillis: timeout)
        }
        // With the stream job in process the states are in memory already: no cache in front of them.
        let reader = StoreReader(
            stores: stores, probe: probe, cacheTTL: stream == nil ? Double(cacheMicros) / 1e6 : 0, metrics: metrics,
            budgetMillis: max(1, Int(budgetMicros / 1000)))
        let log =
            logSample > 0
            ? try ServedLog(
                directory: logDir ?? ProjectPaths.resolve("data/served", config: config), sampleRate: logSample) : nil
        var readiness: (@Sendable () -> String?)?
        if let runner { readiness = { runner.notReadyReason } }
        let service = PredictionService(
            models: models, reader: reader, clock: clock, log: log, metrics: metrics, readiness: readiness)
        StandardError.line(
            "fsml serve: model \(models.current.version) (experiment '\(experiment)', alias '\(alias)'); features from \(reader.description)"
        )
        let (host, portFile) = (self.host, self.portFile)
        let server = PredictionServer(
            service: service, metrics: metrics, host: host, port: port, limits: limits
        ) { bound in
            StandardError.line("fsml serve: listening on http://\(host):\(bound)")
            if let portFile { try? FileSystem.writeAtomically("\(bound)\n", to: portFile) }
        }
        // Shut down in reverse: the server drains the requests in flight, then the follower stops,
        // then the stream job checkpoints. A stream whose source ends leaves the server running.
        var services = [
            ServiceGroupConfiguration.ServiceConfiguration(
                service: ModelFollower(models: models, metrics: metrics, log: log)),
            ServiceGroupConfiguration.ServiceConfiguration(service: server),
        ]
        if let runner {
            services.insert(.init(service: runner, successTerminationBehavior: .ignore), at: 0)
        }
        var logger = Logger(label: "fsml.serve") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            log?.close()
            throw CLIError("server: \(error)")
        }
        log?.close()
        StandardError.line("fsml serve: stopped")
    }
}

extension ServingClock: ExpressibleByArgument {}
