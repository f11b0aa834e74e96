import ArgumentParser
import FeatureCore
import FsmlCore

struct FeaturesList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every feature with its entity, aggregation and window.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let registry = try global.loadRegistry()
        switch output.format {
        case .json:
            let items = registry.features.indices.map { FeatureSummary(registry: registry, index: $0).json }
            StandardOutput.write(JSONText.render(.array(items)) + "\n")
        case .table:
            var table = TextTable(["FEATURE", "ENTITY", "AGGREGATION", "FILTER", "WINDOW", "VIEW", "DEFINITION"])
            for i in registry.features.indices {
                let f = FeatureSummary(registry: registry, index: i)
                table.add([
                    f.name, f.entity, f.aggregationText, f.filter ?? "-", f.windowText, f.view ?? "(helper)",
                    f.hash,
                ])
            }
            StandardOutput.write(table.render())
        }
    }
}

/// A feature's definition in the words and fields that `features list` and `describe` print.
struct FeatureSummary {
    let registry: FeatureRegistry
    let index: Int

    var spec: FeatureSpec { registry.features[index] }
    var name: String { spec.name }
    var entity: String { registry.entities[spec.entity].name }
    var view: String? { spec.view }
    var filter: String? { spec.aggregate?.filter.map { "\($0)" } }
    var hash: String { registry.definitionHash(of: index) }

    var aggregationText: String {
        switch spec.kind {
        case .aggregate(let a): return a.operation.summary(in: registry.schema)
        case .derived(let d):
            guard let r = d.ratio else { return "\(d.expression)" }
            return "ratio(\(registry.features[r.numerator].name), \(registry.features[r.denominator].name))"
        }
    }

    var windowText: String {
        spec.aggregate?.window.text ?? "(derived)"
    }

    var json: JSONValue {
        let e = registry.entities[spec.entity]
        var pairs: [(String, JSONValue)] = [
            ("name", .string(name)),
            ("entity", .string(entity)),
            ("key", .array(e.keyFields.map { .string(registry.schema.fields[$0].name) })),
            ("ttl", .string(DurationText.format(e.ttl))),
            ("aggregation", .string(spec.operationName)),
        ]
        for (key, value) in spec.aggregate?.operation.arguments(in: registry.schema) ?? [] {
            pairs.append((key, .string(value)))
        }
        if let r = spec.derived?.ratio {
            pairs.append(("numerator", .string(registry.features[r.numerator].name)))
            pairs.append(("denominator", .string(registry.features[r.denominator].name)))
        } else if let d = spec.derived {
            pairs.append(("expression", .string("\(d.expression)")))
        }
        pairs.append(("filter", filter.map(JSONValue.string) ?? .null))
        if let window = spec.aggregate?.window {
            pairs += window.yamlKeys.map { ($0.key, .string($0.value)) }
        } else {
            pairs.append(("window", .null))
        }
        pairs.append(("view", view.map(JSONValue.string) ?? .null))
        pairs.append(("description", spec.description.map(JSONValue.string) ?? .null))
        pairs.append(("semantics", .string(registry.windowWords(of: index))))
        pairs.append(("definition_hash", .string(hash)))
        pairs.append(("line", .int(spec.line)))
        return .object(pairs)
    }
}
