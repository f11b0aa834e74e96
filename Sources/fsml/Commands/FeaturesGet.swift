import ArgumentParser
import FeatureCore
import FsmlCore
import Serving
import Workflows

struct FeaturesGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Read one entity's feature values from the online store (Feast's get-online-features).",
        discussion: """
            The key is one value per key field of the entity, in its order (fsml features get session u1 s1), \
            or one value joined by ':' with ':' and '%' escaped as %3A and %25 (u1:s1), as /features takes it. \
            Values are as of --as-of: by default just after the stream's clock as the store records it. \
            A missing value (unknown entity, expired, empty window) prints as null.
            """)

    @Argument(help: "The entity.") var entity: String
    @Argument(help: "The key values.") var key: [String]
    @Option(help: "Only these features (comma-separated).") var features: String?
    @Option(help: "The instant, RFC 3339 (default: the stream's clock).") var asOf: String?
    @Option(help: "The online store (default: stores.online in fsml.yaml).") var online: String?
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let registry = try global.loadRegistry()
        guard let e = registry.entityIndex(entity) else {
            throw CLIError("no entity '\(entity)' (one of \(registry.entities.map(\.name).joined(separator: ", ")))")
        }
        let chosen: [Int]? = try features.map { list in
            try list.split(separator: ",").map { name in
                guard let f = registry.featureIndex(String(name)), registry.features[f].entity == e else {
                    throw CLIError("'\(name)' is not a feature of \(entity)")
                }
                return f
            }
        }
        let t: Micros? = try asOf.map { text in
            guard case .success(let t) = Timestamp.parse(text) else {
                throw ValidationError("--as-of: '\(text)' is not an RFC 3339 time")
            }
            return t
        }
        let store = try ProjectStores.online(online, registry: registry, config: global.configPath)
        let values: OnlineFeatures.Values
        do {
            let k = try OnlineFeatures.key(key, entity: e, registry: registry)
            values = try OnlineFeatures.read(
                store: store, registry: registry, entity: e, key: k, features: chosen, asOf: t)
        } catch let error as ServingError { throw CLIError(error.description) }
        func number(_ v: Double) -> JSONValue { v.isNaN ? .null : .number(v) }
        switch output.format {
        case .json:
            let json = JSONValue.object([
                ("entity", .string(values.entity)), ("key", .string(values.key)),
                ("as_of", .string(Timestamp.format(values.asOf))),
                ("age_seconds", values.lastEvent.map { .number(Double(values.asOf - $0) / 1e6) } ?? .null),
                ("features", .object(values.features.map { ($0.name, number($0.value)) })),
            ])
            StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var table = TextTable(["FEATURE", "VALUE"], rightAligned: [1])
            for (name, v) in values.features { table.add([name, v.isNaN ? "null" : JSONText.number(v)]) }
            StandardOutput.write(table.render())
            let age = values.lastEvent.map {
                "latest event \(Progress.fixed(Double(values.asOf - $0) / 1e6, 1)) s before"
            }
            StandardError.line(
                "\(values.entity) \(values.key) as of \(Timestamp.format(values.asOf))\(age.map { "; \($0)" } ?? "; not in the online store")"
            )
        }
    }
}
