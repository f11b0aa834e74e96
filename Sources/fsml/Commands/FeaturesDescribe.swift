import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore

struct FeaturesDescribe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe", abstract: "Print one feature's definition and its exact window semantics.")

    @Argument(help: "The feature name.")
    var name: String

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let registry = try global.loadRegistry()
        guard let index = registry.featureIndex(name) else {
            throw CLIError(
                "no feature '\(name)' in \(registry.source) (features: \(registry.features.map(\.name).joined(separator: ", ")))"
            )
        }
        let f = FeatureSummary(registry: registry, index: index)
        if output.format == .json {
            StandardOutput.write(JSONText.render(f.json) + "\n")
            return
        }
        let e = registry.entities[f.spec.entity]
        var lines = [f.name]
        if let d = f.spec.description { lines.append("  \(d)") }
        lines.append("")
        let rows: [(String, String)] = [
            (
                "entity",
                "\(e.name) (key \(e.keyFields.map { registry.schema.fields[$0].name }.joined(separator: ", ")), ttl \(DurationText.format(e.ttl)))"
            ),
            ("aggregation", f.aggregationText),
            ("filter", f.filter ?? "none (every event)"),
            ("window", f.windowText),
            ("served by", f.view.map { "feature view \($0)" } ?? "no feature view (a helper of other features)"),
            ("defined at", "\(registry.source):\(f.spec.line)"),
            ("definition", f.hash),
        ]
        for (k, v) in rows { lines.append("  " + (k + ":").padding(toLength: 13, withPad: " ", startingAt: 0) + v) }
        lines.append("")
        lines.append(contentsOf: wrap(registry.windowWords(of: index), width: 76).map { "  " + $0 })
        StandardOutput.write(lines.joined(separator: "\n") + "\n")
    }

    private func wrap(_ text: String, width: Int) -> [String] {
        var out: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                out.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { out.append(line) }
        return out
    }
}
