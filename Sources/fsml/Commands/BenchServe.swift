import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore
import Histogram
import OnlineStorage
import Serving

/// Key values for requests, taken from an events file: what real traffic would ask for. One
/// tuple per distinct combination of `fields` (the serving contract's key fields, in its order);
/// events without every required field are skipped, optional ones may be missing.
struct RequestIDs {
    let fields: [String]
    var tuples: [[String?]] = []
    /// Per tuple, the request fields the model reads (`ServingContract.requestFields`) taken from
    /// the same event, as members of a JSON object (`"amount":12.5`).
    var requestValues: [[String]] = []

    static func load(path: String, contract: ServingContract, limit: Int = 200_000) throws -> RequestIDs {
        let reader = try LineReader(path: path)
        var ids = RequestIDs(fields: contract.keyFields)
        var seen = Set<[String?]>()
        while ids.tuples.count < limit, let line = try reader.next() {
            guard let (tuple, values) = request(line, contract: contract) else { continue }
            if seen.insert(tuple).inserted {
                ids.tuples.append(tuple)
                ids.requestValues.append(values)
            }
        }
        guard !ids.tuples.isEmpty else {
            throw CLIError("\(path) holds no events with \(contract.requiredFields.joined(separator: ", "))")
        }
        return ids
    }

    /// Key values in the contract's order, and request fields as JSON members.
    typealias Request = (tuple: [String?], values: [String])

    /// An event line's key values and request fields; nil for a line that is not JSON or lacks a
    /// required key.
    static func request(_ line: UnsafeRawBufferPointer, contract: ServingContract) -> Request? {
        guard let node = try? JSONParser.parse(Array(line)) else { return nil }
        let tuple = contract.keyFields.map { f in member(node, f).flatMap { $0.string ?? $0.int.map(String.init) } }
        guard zip(contract.keyFields, tuple).allSatisfy({ !contract.required.contains($0) || $1 != nil }) else {
            return nil
        }
        let values = contract.requestFields.keys.sorted().compactMap { name in
            member(node, name).flatMap(json).map { "\(JSONText.quote(name)):\($0)" }
        }
        return (tuple, values)
    }

    /// A dotted field (`device.id`) is a nested member.
    static func member(_ node: JSONNode, _ path: String) -> JSONNode? {
        var v: JSONNode? = node
        for part in path.split(separator: ".") { v = v?[String(part)] }
        return v
    }

    static func json(_ node: JSONNode) -> String? {
        switch node {
        case .number(let text): return text
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return JSONText.quote(s)
        default: return nil
        }
    }

    /// Tuple `i`'s key values as members of a JSON object, without `except`, with `replaced`
    /// standing in for its field's value.
    func keyMembers(_ i: Int, except: String? = nil, replaced: (field: String, value: String)? = nil) -> [String] {
        Self.keyMembers(fields: fields, tuple: tuples[i], except: except, replaced: replaced)
    }

    static func keyMembers(
        fields: [String], tuple: [String?], except: String? = nil, replaced: (field: String, value: String)? = nil
    ) -> [String] {
        zip(fields, tuple).compactMap { f, v in
            guard f != except, let value = f == replaced?.field ? replaced?.value : v else { return nil }
            return "\(JSONText.quote(f)):\(JSONText.quote(value))"
        }
    }

    /// One tuple as request fields.
    func fields(_ i: Int) -> [String: String] {
        var out: [String: String] = [:]
        for (f, v) in zip(fields, tuples[i]) where v != nil { out[f] = v }
        return out
    }
}

struct BenchServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Open-loop load on a running `fsml serve`: latency percentiles from each request's due time.",
        discussion: """
            Requests arrive at a constant rate whatever the server does (open loop); each latency runs from the \
            request's intended send time, so queueing is counted. Writes serve-load-NAME.json and .html to --out.
            """)

    @Option(help: "The server.") var url = "http://127.0.0.1:8080"
    @Option(help: "Requests per second.") var rps: Double = 500
    @Option(help: "How long, in seconds.") var duration: Double = 30
    @Option(help: "Connections (one thread each).") var connections = 64
    @Option(help: "Events to take the key fields of requests from.") var idsFrom = "data/events.jsonl.gz"
    @Option(help: "The fraction of requests for ids nobody has seen.") var unknownFraction = 0.05
    @Flag(
        help: """
            Follow the server's stream job (replaying --ids-from): each request is for an example event it has not \
            read yet, as live traffic asks at its events' own times.
            """)
    var followStream = false
    @Option(help: "predict or rank.") var endpoint = "predict"
    @Option(help: "Candidates per /rank request.") var rankSize = 50
    @Option(
        help: """
            The key field /rank candidates vary (default: the last key field of the served entities that keys \
            an entity alone).
            """) var candidate: String?
    @Flag(help: "Search the highest rate whose p95 meets --p95-limit.") var findMax = false
    @Option(help: "The p95 limit for --find-max.") var p95Limit = "120ms"
    @Option(help: "Where reports go.") var out = "artifacts/reports"
    @Option(help: "Names the report files.") var name = "predict"
    @Option(
        help: """
            Write --requests request bodies to this file, one JSON object per line, and stop: the same traffic \
            for another load generator (wrk, k6).
            """) var writeRequests: String?
    @Option(help: "How many bodies --write-requests writes.") var requests = 20_000
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    /// The percentile at x = log10(1 / (1 − p)): 0 → p0, 1 → p90, 2 → p99, 3 → p99.9.
    static func percentileLabel(_ x: Double) -> String {
        let p = 100 * (1 - pow(10, -x))
        guard x >= 0 else { return "" }
        var text = String(format: "%.4f", p)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return "p" + text
    }

    func run() throws {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw ValidationError("--url must look like http://127.0.0.1:8080")
        }
        guard rps > 0, duration > 0, connections > 0 else {
            throw ValidationError("--rps, --duration and --connections must be positive")
        }
        guard ["predict", "rank"].contains(endpoint) else { throw ValidationError("--endpoint: predict or rank") }
        // The contract of a model trained on the served features, as `make all` trains it.
        let registry = try global.loadRegistry()
        let contract = ServingContract(registry: registry, features: registry.servedFeatures)
        if followStream && (endpoint != "predict" || findMax || writeRequests != nil) {
            throw ValidationError("--follow-stream goes with /predict, without --find-max or --write-requests")
        }
        // Following the stream, the file's first keys only stand in should it have no example left.
        let ids = try RequestIDs.load(path: idsFrom, contract: contract, limit: followStream ? 1_000 : 200_000)
        let follower =
            try followStream
            ? Self.follower(registry: registry, contract: contract, path: idsFrom, host: host, port: port) : nil
        defer { follower?.stop() }
        let singles = contract.entities.map { registry.entities[$0].keyFields }.filter { $0.count == 1 }
        guard let candidateField = candidate ?? singles.last.map({ registry.schema.fields[$0[0]].name }),
            contract.keyFields.contains(candidateField)
        else {
            throw ValidationError("--candidate: one of \(contract.keyFields.joined(separator: ", "))")
        }
        let unknown = unknownFraction
        let endpoint = self.endpoint
        let rankSize = self.rankSize
        let firstRequired = contract.requiredFields.first { $0 != candidateField } ?? contract.requiredFields[0]
        let candidateIndex = ids.fields.firstIndex(of: candidateField)!
        // Request fields (an amount shown now) come from the same event as the keys; in /rank, from
        // each candidate's own event.
        let makeRequest: @Sendable (Int) -> (method: String, path: String, body: [UInt8]) = { i in
            var g = SeededRandom(seed: UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
            let t = Int(g.next() % UInt64(ids.tuples.count))
            let replaced = g.uniform() < unknown ? (firstRequired, "unknown-\(i)") : nil
            var members = ids.keyMembers(t, except: endpoint == "rank" ? candidateField : nil, replaced: replaced)
            if endpoint == "rank" {
                let candidates = (0..<rankSize).map { _ -> String in
                    let c = Int(g.next() % UInt64(ids.tuples.count))
                    let key =
                        "\(JSONText.quote(candidateField)):\(JSONText.quote(ids.tuples[c][candidateIndex] ?? "none"))"
                    return "{" + ([key] + ids.requestValues[c]).joined(separator: ",") + "}"
                }
                members.append("\"candidates\":[\(candidates.joined(separator: ","))]")
                return ("POST", "/rank", Array("{\(members.joined(separator: ","))}".utf8))
            }
            members += ids.requestValues[t]
            if let (tuple, values) = follower?.item(g.next()) {
                members = RequestIDs.keyMembers(fields: ids.fields, tuple: tuple, replaced: replaced) + values
            }
            return ("POST", "/predict", Array("{\(members.joined(separator: ","))}".utf8))
        }
        if let writeRequests {
            let lines = (0..<requests).map { String(decoding: makeRequest($0).body, as: UTF8.self) }
            try FileSystem.writeAtomically(lines.joined(separator: "\n") + "\n", to: writeRequests)
            StandardError.line("bench serve: \(requests) \(endpoint) bodies in \(writeRequests)")
            return
        }
        func load(_ rate: Double, _ seconds: Double) -> LoadGenerator.Result {
            let r = LoadGenerator(
                host: host, port: port, rate: rate, duration: seconds, connections: connections, request: makeRequest
            ).run()
            StandardError.line(
                "bench serve: \(Progress.count(Int(rate))) req/s for \(Progress.fixed(seconds, 0)) s: p50 \(Progress.fixed(r.percentile(50), 2)) ms, p95 \(Progress.fixed(r.percentile(95), 2)) ms, p99 \(Progress.fixed(r.percentile(99), 2)) ms, errors \(r.errors.values.reduce(0, +))"
            )
            return r
        }
        if let follower {
            // Traffic that follows the stream starts once the stream's position is known.
            while follower.position.polls == 0 {
                let p = follower.position
                if p.unfollowable > 0 {
                    throw CLIError(
                        "\(url)/metrics has no fsml_stream_source_lines: --follow-stream needs `fsml serve --stream file:...`"
                    )
                }
                if p.failures >= 250 { throw CLIError("\(url)/metrics did not answer") }
                usleep(10_000)
            }
            follower.catchUp()
            StandardError.line(
                "bench serve: following the stream job from line \(follower.position.lines) of \(idsFrom)")
        }
        var result = load(rps, duration)
        if let follower {
            StandardError.line("bench serve: the stream job was at line \(follower.position.lines) at the end")
        }
        var maxRate: Double?
        if findMax {
            guard let limit = DurationText.parse(p95Limit) else { throw ValidationError("--p95-limit: not a duration") }
            let limitMillis = Double(limit) / 1000
            // A rate passes when p95 meets the limit, errors stay under 1 % and the server kept up.
            func ok(_ r: LoadGenerator.Result, _ rate: Double) -> Bool {
                r.percentile(95) <= limitMillis && Double(r.errors.values.reduce(0, +)) <= 0.01 * Double(r.sent)
                    && r.achievedRate >= 0.9 * rate
            }
            var good = ok(result, rps) ? rps : 0
            var bad: Double? = good == 0 ? rps : nil
            var rate = rps
            while bad == nil && rate < 1_000_000 {
                rate *= 2
                if ok(load(rate, duration), rate) { good = rate } else { bad = rate }
            }
            for _ in 0..<4 {
                guard let b = bad, b - good > max(50, good * 0.05) else { break }
                let mid = (good + b) / 2
                if ok(load(mid, duration), mid) { good = mid } else { bad = mid }
            }
            maxRate = good
            if good > 0 { result = load(good, duration) }
        }
        try report(result, maxRate: maxRate)
    }

    /// Request keys from the example events (the label's `example` filter, else every event) of
    /// `path` that the server's stream job has yet to read.
    static func follower(
        registry: FeatureRegistry, contract: ServingContract, path: String, host: String, port: Int
    ) throws -> StreamFollower<RequestIDs.Request> {
        let parser = EventParser(schema: registry.schema)
        let example = registry.label?.example
        return try StreamFollower(path: path, host: host, port: port) { line in
            if let example {
                guard case .success(let event) = parser.parse(line), example.matches(event) else { return nil }
            }
            return RequestIDs.request(line, contract: contract)
        }
    }

    private func report(_ r: LoadGenerator.Result, maxRate: Double?) throws {
        let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99), ("p99.9", 99.9)]
        var fields: [(String, JSONValue)] = [
            ("url", .string(url)), ("endpoint", .string(endpoint)), ("target_rps", .number(rps)),
            ("achieved_rps", .number(r.achievedRate)), ("duration_seconds", .number(r.seconds)),
            ("requests", .int(r.sent)), ("connections", .int(connections)),
        ]
        fields += percentiles.map { ("\($0.0)_ms", .number(r.percentile($0.1))) }
        fields.append(("max_ms", .number(r.maxMillis)))
        fields.append(("errors", .object(r.errors.keys.sorted().map { ($0, .int(r.errors[$0]!)) })))
        fields.append(("status", .object(r.statusCounts.keys.sorted().map { (String($0), .int(r.statusCounts[$0]!)) })))
        if let maxRate { fields.append(("max_rps_within_p95_limit", .number(maxRate))) }
        let json = JSONValue.object(fields)
        try FileSystem.createDirectory(out)
        let base = "\(out)/serve-load-\(name)"
        try FileSystem.writeAtomically(JSONText.render(json) + "\n", to: base + ".json")
        // The percentile curve, x as "nines" (1 / (1 − p)) on a log scale, as HdrHistogram plots it.
        var curve: [(x: Double, y: Double)] = []
        for p in [0.0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99] {
            curve.append((log10(1 / (1 - p / 100)), r.percentile(p)))
        }
        let chart = SVGChart.lines(
            title: "Latency by percentile (\(Progress.count(Int(r.achievedRate))) req/s)",
            x: "percentile", y: "ms", series: [ChartSeries(name: endpoint, points: curve)], width: 720, height: 380,
            xTickLabel: Self.percentileLabel)
        let rows =
            percentiles.map { [$0.0, Progress.fixed(r.percentile($0.1), 3)] } + [
                ["max", Progress.fixed(r.maxMillis, 3)]
            ]
        var body = "<h1>fsml bench serve: \(HTML.escape(url))/\(endpoint)</h1>"
        let errorCount = r.errors.values.reduce(0, +)
        body +=
            "<p class=\"summary\">p50 \(Progress.fixed(r.percentile(50), 2)) ms, p99 \(Progress.fixed(r.percentile(99), 2)) ms, max \(Progress.fixed(r.maxMillis, 2)) ms at \(Progress.fixed(r.achievedRate, 0)) req/s of the \(Progress.count(Int(rps))) asked for; \(errorCount == 0 ? "no errors" : "\(errorCount) errors").</p>"
        body +=
            "<p>target \(Progress.count(Int(rps))) req/s, achieved \(Progress.fixed(r.achievedRate, 1)) req/s over \(Progress.fixed(r.seconds, 1)) s, \(connections) connections, open loop</p>"
        body += HTML.table(["percentile", "latency ms"], rows) + chart
        body +=
            "<h2>Errors</h2>"
            + HTML.table(["kind", "count"], r.errors.keys.sorted().map { [$0, String(r.errors[$0]!)] })
        try FileSystem.writeAtomically(HTML.page(title: "fsml bench serve", body: body), to: base + ".html")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var t = TextTable(["LOAD", "VALUE"], rightAligned: [1])
            t.add(["target req/s", Progress.count(Int(rps))])
            t.add(["achieved req/s", Progress.fixed(r.achievedRate, 1)])
            for (label, p) in percentiles { t.add(["\(label) ms", Progress.fixed(r.percentile(p), 3)]) }
            t.add(["max ms", Progress.fixed(r.maxMillis, 3)])
            t.add(["errors", String(r.errors.values.reduce(0, +))])
            if let maxRate { t.add(["max req/s with p95 ≤ \(p95Limit)", Progress.count(Int(maxRate))]) }
            t.add(["report", base + ".html"])
            StandardOutput.write(t.render())
        }
    }
}

struct BenchOnline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online",
        abstract: "Online store reads alone: one request's entity states (every served entity) per read.",
        discussion: "Measures the store named by --online and, for comparison, the same states in process memory.")

    @Option(help: "The online store (default: stores.online in fsml.yaml).") var online: String?
    @Option(help: "Events to take ids from.") var idsFrom = "data/events.jsonl.gz"
    @Option(help: "Reads to time.") var reads = 100_000
    @Option(help: "Where reports go.") var out = "artifacts/reports"
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let registry = try global.loadRegistry()
        let store = try openOnlineStore(online, registry: registry, config: global.configPath)
        let contract = ServingContract(registry: registry, features: registry.servedFeatures)
        let ids = try RequestIDs.load(path: idsFrom, contract: contract)
        let lookup = try FeatureLookup(registry: registry, modelFeatures: [])
        let keys = ids.tuples.indices.map { lookup.keys(ids.fields($0), entities: contract.entities) }
        let memory = MemoryOnlineStore(entities: registry.entities)
        func time(_ s: any OnlineStore) throws -> (Histogram<UInt64>, Int) {
            var h = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
            var found = 0
            for i in 0..<reads {
                let k = keys[i % keys.count]
                let begin = monotonicNanos()
                let values = try s.read(k)
                _ = h.record(monotonicNanos() - begin)
                found += values.lazy.filter { $0 != nil }.count
            }
            return (h, found)
        }
        // Fill the memory store with what the real store holds for these keys.
        for k in keys {
            let values = try store.read(k)
            try memory.write(
                zip(k, values).compactMap { key, v in
                    v.flatMap { v in
                        StoredValue.blob(v).map {
                            StateRecord(entity: key.entity, key: key.key, lastTime: StoredValue.lastTime(v)!, blob: $0)
                        }
                    }
                })
        }
        let (storeHist, found) = try time(store)
        let (memHist, _) = try time(memory)
        func row(_ label: String, _ h: Histogram<UInt64>) -> [(String, JSONValue)] {
            [50.0, 95, 99, 99.9].map {
                (
                    "\(label)_p\($0 == 99.9 ? "99.9" : String(Int($0)))_us",
                    .number(Double(h.valueAtPercentile($0)) / 1000)
                )
            }
                + [("\(label)_max_us", .number(Double(h.max) / 1000))]
        }
        let json = JSONValue.object(
            [("store", .string(store.description)), ("reads", .int(reads)), ("keys_found", .int(found))]
                + row("store", storeHist) + row("memory", memHist))
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(json) + "\n", to: "\(out)/online-read.json")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var t = TextTable(["READ (µs)", store.description, "memory"], rightAligned: [1, 2])
            for p in [50.0, 95, 99, 99.9] {
                t.add([
                    "p\(p == 99.9 ? "99.9" : String(Int(p)))",
                    Progress.fixed(Double(storeHist.valueAtPercentile(p)) / 1000, 2),
                    Progress.fixed(Double(memHist.valueAtPercentile(p)) / 1000, 2),
                ])
            }
            t.add([
                "max", Progress.fixed(Double(storeHist.max) / 1000, 1), Progress.fixed(Double(memHist.max) / 1000, 1),
            ])
            StandardOutput.write(t.render())
        }
    }
}
