import ArgumentParser
import EventGenerator
import FeatureCore
import FsmlCore
import Streaming

struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Generate events, then time parsing, admission and folding on one core, and state sizes.",
        discussion:
            "Parsing, admission and folding run on one thread, timed by its CPU time, so their rates are per core and other processes do not inflate them. Generation uses every core."
    )

    @Option(help: "Events to generate.") var events: Int = 10_000_000
    @Option(help: "Users.") var users: Int = 100_000
    @Option(help: "Products.") var products: Int = 20_000
    @Option(help: "Days of traffic.") var days: Int = 7
    @Option(help: "Where the generated events go.") var out: String = "data/bench/events.jsonl.gz"
    @Option(help: "The report directory.") var report: String = "artifacts/reports"
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let registry = try global.loadRegistry()
        var config = GeneratorConfig()
        config.events = events
        config.users = users
        config.products = products
        config.days = days

        // 1. Generation, all cores, gzip on.
        let genStart = monotonicNanos()
        let writer = try FileWriter(path: out, atomic: true)
        let progress = Progress("generate", total: events)
        let summary = try EventGenerator(config: config).run(gzip: true, progress: progress) { try writer.write($0) }
        try writer.close()
        let genSeconds = seconds(since: genStart)
        progress.finish(summary.lines)

        // 2–4. Reading, then parsing, admission and folding on one core, then state sizes.
        let m = try EngineBenchmark.run(path: out, registry: registry)
        let generated = Double(summary.lines) / genSeconds
        var result: [(String, JSONValue)] = [
            ("fsml_version", .string(FsmlVersion.current)),
            ("cores", .int(systemCoreCount())),
            ("events", .int(summary.events)), ("lines", .int(m.lines)),
            ("generate_seconds", .number(genSeconds)),
            ("generate_events_per_second", .number(generated)),
            ("file_bytes", .int(summary.bytes)),
            ("read_seconds", .number(m.readSeconds)),
            ("read_mb_per_second", .number(m.readMBPerSecond)),
            ("mean_line_bytes", .number(m.bytesIn / Double(m.lines))),
            ("parse_lines_per_second_per_core", .number(m.parseRate)),
            ("parse_ns_per_line", .number(m.parseNanosPerLine)),
            ("parse_mb_per_second_per_core", .number(m.parseMBPerSecond)),
            ("admit_events_per_second_per_core", .number(m.admitRate)),
            ("admit_ns_per_event", .number(m.admitNanosPerEvent)),
            ("fold_events_per_second_per_core", .number(m.foldRate)),
            ("fold_ns_per_event", .number(m.foldNanosPerEvent)),
            ("dead_letters", .int(m.deadLetters)), ("late", .int(m.late)), ("duplicates", .int(m.duplicates)),
            ("encode_ns_per_state", .number(Double(m.encodeNanos) / Double(max(m.encoded, 1)))),
            ("peak_rss_bytes", .int(peakRSSBytes())),
        ]
        result.append(
            (
                "state_bytes",
                .array(
                    m.kinds.map {
                        .object([
                            ("entity", .string($0.name)), ("live_entities", .int($0.states)),
                            ("mean_bytes", .number($0.meanBytes)), ("max_bytes", .int($0.maxBytes)),
                        ])
                    })
            ))
        try FileSystem.createDirectory(report)
        try FileSystem.writeAtomically(JSONText.render(.object(result)) + "\n", to: "\(report)/engine-bench.json")
        var md = "# Engine benchmark\n\n"
        md += "`fsml bench engine --events \(events) --users \(users) --products \(products) --days \(days)`, "
        md += "\(systemCoreCount()) cores, fsml \(FsmlVersion.current).\n\n"
        md += "| measure | value |\n|---|---|\n"
        md +=
            "| generate \(Progress.count(summary.lines)) lines (all cores, gzip) | \(Progress.fixed(genSeconds, 1)) s, \(Progress.count(Int(generated))) lines/s |\n"
        md += "| gunzip + split lines (1 core) | \(Progress.fixed(m.readMBPerSecond, 0)) MB/s |\n"
        md +=
            "| parse + validate (1 core) | \(Progress.count(Int(m.parseRate))) lines/s, \(Progress.fixed(m.parseNanosPerLine, 0)) ns/line, \(Progress.fixed(m.parseMBPerSecond, 0)) MB/s |\n"
        md +=
            "| admission: lateness and duplicates (1 core) | \(Progress.count(Int(m.admitRate))) events/s, \(Progress.fixed(m.admitNanosPerEvent, 0)) ns/event |\n"
        md +=
            "| fold into \(m.entityNames.joined(separator: ", ")) state (\(m.slots) slots, 1 core) | \(Progress.count(Int(m.foldRate))) events/s, \(Progress.fixed(m.foldNanosPerEvent, 0)) ns/event |\n"
        md += "| dead letters / late / duplicates | \(m.deadLetters) / \(m.late) / \(m.duplicates) |\n"
        md += "| peak RSS | \(peakRSSBytes() / 1_048_576) MiB |\n\n"
        md += "| entity | live states | mean bytes | max bytes |\n|---|---|---|---|\n"
        for k in m.kinds {
            md += "| \(k.name) | \(Progress.count(k.states)) | \(Progress.fixed(k.meanBytes, 1)) | \(k.maxBytes) |\n"
        }
        try FileSystem.writeAtomically(md, to: "\(report)/engine-bench.md")
        StandardOutput.write(md)
    }

    private func seconds(since start: UInt64) -> Double { Double(monotonicNanos() - start) / 1e9 }
}
