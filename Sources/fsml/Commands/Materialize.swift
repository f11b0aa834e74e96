import ArgumentParser
import FeatureCore
import FsmlCore
import OfflineStorage
import Streaming
import Workflows

struct Materialize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the online store from the offline store (backfill a new store, refill a lost one).",
        discussion: """
            Every committed event of the offline store is folded, in the order the stream admitted it, through \
            the same engine as `fsml stream`, and every entity state is written with the same event-time-wins \
            write: the store then holds what the stream wrote, key for key. A state already in the store with \
            a later event time is kept. With --as-of T only the events the stream knew by T (its clock when they \
            arrived was at most T) are folded: the store as the stream had written it when its clock passed T \
            (into an empty store: later states already there are kept).
            """
    )

    @Option(
        help:
            "The online store: redis://[:password@]host:port/db, redis+cluster://host:port[,host:port...]/ or sqlite:PATH (default: stores.online)."
    )
    var online: String?
    @Option(help: "The offline store directory (default: stores.offline).") var offline: String?
    @Option(help: "Only events known by this instant, RFC 3339 (default: all).") var asOf: String?
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let registry = try global.loadRegistry()
        var materializer = Materializer(registry: registry)
        materializer.asOf = try asOf.map { text in
            guard case .success(let t) = Timestamp.parse(text) else {
                throw ValidationError("--as-of: '\(text)' is not an RFC 3339 time")
            }
            return t
        }
        let config = global.configPath
        let store = try ProjectStores.online(online, registry: registry, config: config, timeoutMillis: 5000)
        let offlineStore = OfflineStore(root: offline ?? ProjectPaths.resolve(registry.stores.offline, config: config))
        let report: Materializer.Report
        do { report = try materializer.run(from: offlineStore, to: store) } catch let error as StreamError {
            throw CLIError(error.description)
        }
        let clock = report.clock.map { Timestamp.format($0) }
        switch output.format {
        case .json:
            let json = JSONValue.object([
                ("online", .string(store.description)), ("offline", .string(offlineStore.root)),
                ("events", .number(Double(report.events))),
                (
                    "states",
                    .object(
                        registry.entities.indices.map {
                            (registry.entities[$0].name, .number(Double(report.states[$0])))
                        })
                ),
                ("clock", clock.map { .string($0) } ?? .null), ("seconds", .number(report.seconds)),
            ])
            StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var table = TextTable(["MATERIALIZE", "VALUE"], rightAligned: [1])
            table.add(["events folded", Progress.count(report.events)])
            for (e, entity) in registry.entities.enumerated() {
                table.add(["\(entity.name) states", Progress.count(report.states[e])])
            }
            table.add(["clock", clock ?? "none"])
            table.add(["seconds", Progress.fixed(report.seconds, 2)])
            StandardOutput.write(table.render())
            StandardError.line("fsml materialize: \(offlineStore.root) → \(store.description)")
        }
    }
}
