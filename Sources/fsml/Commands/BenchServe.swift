import ArgumentParser
import Foundation
import FsmlCore
import Serving

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
    @Option(help: "The endpoint loaded.") var endpoint: LoadTraffic.Endpoint = .predict
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

    func validate() throws {
        guard rps > 0, duration > 0, connections > 0 else {
            throw ValidationError("--rps, --duration and --connections must be positive")
        }
        if followStream && (endpoint != .predict || findMax || writeRequests != nil) {
            throw ValidationError("--follow-stream goes with /predict, without --find-max or --write-requests")
        }
        if findMax && DurationText.parse(p95Limit) == nil { throw ValidationError("--p95-limit: not a duration") }
    }

    func run() throws {
        guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
            throw ValidationError("--url must look like http://127.0.0.1:8080")
        }
        // The contract of a model trained on the served features, as `make all` trains it.
        let registry = try global.loadRegistry()
        let contract = ServingContract(registry: registry, features: registry.servedFeatures)
        // Following the stream, the file's first keys only stand in should it have no example left.
        let ids = try RequestIDs.load(path: idsFrom, contract: contract, limit: followStream ? 1_000 : 200_000)
        let follower =
            try followStream
            ? LoadTraffic.follower(registry: registry, contract: contract, path: idsFrom, host: host, port: port) : nil
        defer { follower?.stop() }
        let traffic = try LoadTraffic(
            registry: registry, contract: contract, ids: ids, endpoint: endpoint, rankSize: rankSize,
            unknownFraction: unknownFraction, candidate: candidate, follower: follower)
        if let writeRequests {
            let lines = (0..<requests).map { String(decoding: traffic.request($0).body, as: UTF8.self) }
            try FileSystem.writeAtomically(lines.joined(separator: "\n") + "\n", to: writeRequests)
            StandardError.line("bench serve: \(requests) \(endpoint) bodies in \(writeRequests)")
            return
        }
        if let follower {
            try LoadTraffic.startFollowing(follower, url: url)
            StandardError.line(
                "bench serve: following the stream job from line \(follower.position.lines) of \(idsFrom)")
        }
        let search = LoadSearch(host: host, port: port, connections: connections, duration: duration, traffic: traffic)
        var result = search.load(rps)
        if let follower {
            StandardError.line("bench serve: the stream job was at line \(follower.position.lines) at the end")
        }
        var maxRate: Double?
        if findMax {
            let limit = Double(DurationText.parse(p95Limit)!) / 1000
            (maxRate, result) = search.findMax(from: rps, first: result, p95LimitMillis: limit)
        }
        try write(
            LoadReport(
                url: url, endpoint: endpoint.rawValue, targetRate: rps, connections: connections, result: result,
                maxRate: maxRate))
    }

    private func write(_ report: LoadReport) throws {
        try FileSystem.createDirectory(out)
        let base = "\(out)/serve-load-\(name)"
        try FileSystem.writeAtomically(JSONText.render(report.json) + "\n", to: base + ".json")
        try FileSystem.writeAtomically(report.html, to: base + ".html")
        let r = report.result
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(report.json) + "\n")
        case .table:
            var t = TextTable(["LOAD", "VALUE"], rightAligned: [1])
            t.add(["target req/s", Progress.count(Int(rps))])
            t.add(["achieved req/s", Progress.fixed(r.achievedRate, 1)])
            for (label, p) in LoadReport.percentiles { t.add(["\(label) ms", Progress.fixed(r.percentile(p), 3)]) }
            t.add(["max ms", Progress.fixed(r.maxMillis, 3)])
            t.add(["errors", String(report.errorCount)])
            if let maxRate = report.maxRate {
                t.add(["max req/s with p95 ≤ \(p95Limit)", Progress.count(Int(maxRate))])
            }
            t.add(["report", base + ".html"])
            StandardOutput.write(t.render())
        }
    }
}

extension LoadTraffic.Endpoint: ExpressibleByArgument {}
