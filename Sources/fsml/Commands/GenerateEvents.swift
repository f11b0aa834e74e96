import ArgumentParser
import EventGenerator
import FsmlCore

struct GenerateEvents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Generate a realistic clickstream as JSON lines (gzip when the path ends in .gz).",
        discussion: """
            Lines are in arrival order. Product popularity is Zipf; prices are lognormal by category; users \
            differ in activity and purchase propensity; traffic follows a daily curve; a page_view → \
            add_to_cart → purchase funnel depends on the user, the product, the price and the session. Some \
            events arrive late, some twice, some corrupted. The same options give the same bytes. \
            With --template risk: card authorizations (--users cards, --products merchants) with card-testing \
            bursts, stolen cards and risky merchants, and chargebacks days after the authorizations they dispute.
            """
    )

    @Option(help: "Unique events to generate.") var events: Int = 1_000_000
    @Option(help: "Users.") var users: Int = 20_000
    @Option(help: "Products.") var products: Int = 2_000
    @Option(help: "Days of traffic.") var days: Int = 7
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "The first day, ISO-8601 UTC.") var start: String = "2025-01-13T00:00:00Z"
    @Option(help: "Share of events delivered minutes late.") var lateFraction: Double = 0.02
    @Option(help: "Share of events sent twice.") var duplicateFraction: Double = 0.005
    @Option(help: "Share of events followed by a corrupted line.") var malformedFraction: Double = 0
    @Option(help: "Output file.") var out: String = "data/events.jsonl.gz"
    @Option(help: "shop (a clickstream) or risk (card authorizations).") var template: Init.Template = .shop
    @OptionGroup var output: FormatOption

    func validate() throws {
        guard events > 0 else { throw ValidationError("--events must be positive") }
        guard users > 0, products > 0 else { throw ValidationError("--users and --products must be positive") }
        guard days > 0, days <= 3660 else { throw ValidationError("--days must be between 1 and 3660") }
        for (name, x) in [("late", lateFraction), ("duplicate", duplicateFraction), ("malformed", malformedFraction)] {
            guard x >= 0 && x <= 1 else { throw ValidationError("--\(name)-fraction must be between 0 and 1") }
        }
        if case .failure(let e) = Timestamp.parseDateOrTime(start) { throw ValidationError("--start: \(e)") }
    }

    func run() throws {
        var config = GeneratorConfig()
        config.events = events
        config.users = users
        config.products = products
        config.days = days
        config.seed = seed
        config.start = try Timestamp.parseDateOrTime(start).get()
        config.lateFraction = lateFraction
        config.duplicateFraction = duplicateFraction
        config.malformedFraction = malformedFraction
        if template == .risk { return try generateRisk(config) }
        let writer = try FileWriter(path: out, atomic: true)
        let progress = Progress("generate", total: Int(Double(events) * (1 + duplicateFraction + malformedFraction)))
        let summary = try EventGenerator(config: config).run(gzip: out.hasSuffix(".gz"), progress: progress) {
            try writer.write($0)
        }
        try writer.close()
        progress.finish(summary.lines)
        let rows: [(String, Int)] = [
            ("lines", summary.lines), ("events", summary.events), ("page_view", summary.pageViews),
            ("add_to_cart", summary.addToCarts), ("purchase", summary.purchases), ("sessions", summary.sessions),
            ("delayed", summary.delayed), ("delayed_beyond_10m", summary.delayedBeyondLateness),
            ("duplicates", summary.duplicates), ("malformed", summary.malformed), ("bytes", summary.bytes),
        ]
        printCounts(rows)
    }

    private func printCounts(_ rows: [(String, Int)]) {
        switch output.format {
        case .json:
            let pairs: [(String, JSONValue)] = [("file", .string(out))] + rows.map { ($0.0, .int($0.1)) }
            StandardOutput.write(JSONText.render(.object(pairs)) + "\n")
        case .table:
            var table = TextTable(["WROTE \(out)", "COUNT"], rightAligned: [1])
            for (k, v) in rows { table.add([k, Progress.count(v)]) }
            StandardOutput.write(table.render())
        }
    }

    private func generateRisk(_ config: GeneratorConfig) throws {
        let writer = try FileWriter(path: out, atomic: true)
        let summary = try RiskGenerator(config: config).run(gzip: out.hasSuffix(".gz")) { try writer.write($0) }
        try writer.close()
        let rows: [(String, Int)] = [
            ("lines", summary.lines), ("authorizations", summary.authorizations), ("fraudulent", summary.fraudulent),
            ("chargebacks", summary.chargebacks), ("bytes", summary.bytes),
        ]
        printCounts(rows)
    }
}
