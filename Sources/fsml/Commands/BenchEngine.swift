import ArgumentParser
import EventGenerator
import FeatureCore
import FsmlCore

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

        // 2. Reading alone: gunzip and split lines (one core).
        var lineCount = 0
        var bytesIn = 0.0
        let readStart = monotonicNanos()
        let counter = try LineReader(path: out)
        while let line = try counter.next() {
            lineCount += 1
            bytesIn += Double(line.count + 1)
        }
        let readSeconds = seconds(since: readStart)
        StandardError.line("bench: read \(Progress.count(lineCount)) lines in \(Progress.fixed(readSeconds, 2)) s")

        // 3. Parsing, admission and folding, timed apart, batch by batch from the file again.
        let parser = EventParser(schema: registry.schema)
        let engine = FeatureEngine(registry: registry)
        let states = StateTable(engine: engine)
        var admission = Admission(lateness: registry.allowedLateness)
        var parseNanos: UInt64 = 0
        var foldNanos: UInt64 = 0
        var admitNanos: UInt64 = 0
        var admitted: [Int] = []
        var parsed = 0
        var deadLetters = 0
        var late = 0
        var duplicates = 0
        var batch: [Event] = []
        batch.reserveCapacity(65_536)
        var text: [UInt8] = []
        var offsets: [Int] = []
        let reader = try LineReader(path: out)
        let foldProgress = Progress("parse+fold", total: lineCount)
        var done = 0
        while true {
            text.removeAll(keepingCapacity: true)
            offsets.removeAll(keepingCapacity: true)
            offsets.append(0)
            while offsets.count <= 65_536, let line = try reader.next() {
                text.append(contentsOf: line)
                offsets.append(text.count)
            }
            let count = offsets.count - 1
            if count == 0 { break }
            // Each batch is parsed into the events of the one before, whose storage is reused.
            var n = 0
            let p0 = threadCPUNanos()
            text.withUnsafeBytes { all in
                for k in 0..<count {
                    if n == batch.count { batch.append(Event(time: 0, values: [])) }
                    let line = UnsafeRawBufferPointer(rebasing: all[offsets[k]..<offsets[k + 1]])
                    if parser.parse(line, into: &batch[n]) == nil { n += 1 } else { deadLetters += 1 }
                }
            }
            let p1 = threadCPUNanos()
            admitted.removeAll(keepingCapacity: true)
            for k in 0..<n {
                switch admission.admit(id: batch[k].id(in: registry.schema), time: batch[k].time) {
                case .admitted: admitted.append(k)
                case .late: late += 1
                case .duplicate: duplicates += 1
                }
            }
            let p2 = threadCPUNanos()
            states.fold(count: admitted.count) { batch[admitted[$0]] }
            let p3 = threadCPUNanos()
            parseNanos += p1 - p0
            admitNanos += p2 - p1
            foldNanos += p3 - p2
            parsed += n
            done += count
            foldProgress.update(done)
            if done % (65_536 * 16) < 65_536 { states.evictExpired(watermark: admission.watermark) }
        }
        foldProgress.finish(lineCount)

        // 4. State sizes as the online store would hold them.
        var kinds: [(String, Int, Double, Int)] = []
        var encodeNanos: UInt64 = 0
        var encoded = 0
        for e in engine.entities.indices {
            var sizes: [Int] = []
            sizes.reserveCapacity(states.count(entity: e))
            let t0 = threadCPUNanos()
            states.forEach(entity: e) { _, state in
                sizes.append(StateCodec.encode(state, engine: engine, entity: e).count)
            }
            encodeNanos += threadCPUNanos() - t0
            encoded += sizes.count
            let mean = sizes.isEmpty ? 0 : Double(sizes.reduce(0, +)) / Double(sizes.count)
            kinds.append((engine.entities[e].entity.name, sizes.count, mean, sizes.max() ?? 0))
        }

        let parseRate = Double(lineCount) / (Double(parseNanos) / 1e9)
        let foldRate = Double(parsed - late - duplicates) / (Double(foldNanos) / 1e9)
        let admitRate = Double(parsed) / (Double(admitNanos) / 1e9)
        var result: [(String, JSONValue)] = [
            ("fsml_version", .string(FsmlVersion.current)),
            ("cores", .int(systemCoreCount())),
            ("events", .int(summary.events)), ("lines", .int(lineCount)),
            ("generate_seconds", .number(genSeconds)),
            ("generate_events_per_second", .number(Double(summary.lines) / genSeconds)),
            ("file_bytes", .int(summary.bytes)),
            ("read_seconds", .number(readSeconds)),
            ("read_mb_per_second", .number(bytesIn / readSeconds / 1e6)),
            ("mean_line_bytes", .number(bytesIn / Double(lineCount))),
            ("parse_lines_per_second_per_core", .number(parseRate)),
            ("parse_ns_per_line", .number(Double(parseNanos) / Double(lineCount))),
            ("parse_mb_per_second_per_core", .number(bytesIn / (Double(parseNanos) / 1e9) / 1e6)),
            ("admit_events_per_second_per_core", .number(admitRate)),
            ("admit_ns_per_event", .number(Double(admitNanos) / Double(max(parsed, 1)))),
            ("fold_events_per_second_per_core", .number(foldRate)),
            ("fold_ns_per_event", .number(Double(foldNanos) / Double(max(parsed - late - duplicates, 1)))),
            ("dead_letters", .int(deadLetters)), ("late", .int(late)), ("duplicates", .int(duplicates)),
            ("encode_ns_per_state", .number(Double(encodeNanos) / Double(max(encoded, 1)))),
            ("peak_rss_bytes", .int(peakRSSBytes())),
        ]
        result.append(
            (
                "state_bytes",
                .array(
                    kinds.map {
                        .object([
                            ("entity", .string($0.0)), ("live_entities", .int($0.1)), ("mean_bytes", .number($0.2)),
                            ("max_bytes", .int($0.3)),
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
            "| generate \(Progress.count(summary.lines)) lines (all cores, gzip) | \(Progress.fixed(genSeconds, 1)) s, \(Progress.count(Int(Double(summary.lines) / genSeconds))) lines/s |\n"
        md += "| gunzip + split lines (1 core) | \(Progress.fixed(bytesIn / readSeconds / 1e6, 0)) MB/s |\n"
        md +=
            "| parse + validate (1 core) | \(Progress.count(Int(parseRate))) lines/s, \(Progress.fixed(Double(parseNanos) / Double(lineCount), 0)) ns/line, \(Progress.fixed(bytesIn / (Double(parseNanos) / 1e9) / 1e6, 0)) MB/s |\n"
        md +=
            "| admission: lateness and duplicates (1 core) | \(Progress.count(Int(admitRate))) events/s, \(Progress.fixed(Double(admitNanos) / Double(max(parsed, 1)), 0)) ns/event |\n"
        md +=
            "| fold into \(registry.entities.map(\.name).joined(separator: ", ")) state (\(engine.entities.map(\.slots.count).reduce(0, +)) slots, 1 core) | \(Progress.count(Int(foldRate))) events/s, \(Progress.fixed(Double(foldNanos) / Double(max(parsed - late - duplicates, 1)), 0)) ns/event |\n"
        md += "| dead letters / late / duplicates | \(deadLetters) / \(late) / \(duplicates) |\n"
        md += "| peak RSS | \(peakRSSBytes() / 1_048_576) MiB |\n\n"
        md += "| entity | live states | mean bytes | max bytes |\n|---|---|---|---|\n"
        for k in kinds { md += "| \(k.0) | \(Progress.count(k.1)) | \(Progress.fixed(k.2, 1)) | \(k.3) |\n" }
        try FileSystem.writeAtomically(md, to: "\(report)/engine-bench.md")
        StandardOutput.write(md)
    }

    private func seconds(since start: UInt64) -> Double { Double(monotonicNanos() - start) / 1e9 }
}
