import EventGenerator
import FSML
import FeatureConfig
import FeatureCore
import Foundation
import FsmlCore
import FsmlTestSupport
import GBDT
import Testing

/// Examples/FeatureServer, the library embedded in a Hummingbird app, run as a user would run it:
/// its /score answers what the library computes in this process for the same events and model,
/// and events posted to /events change the features it scores.
@Suite struct FeatureServerExampleTests {
    static let example: String = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("FeatureServerExample").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/FeatureServerExample").path
    }()

    /// A model of three reference features, on made-up rows (what it learned does not matter here).
    static func model(path: String) throws {
        var random = SeededRandom(seed: 5)
        var values: [Float] = []
        var labels: [Float] = []
        for _ in 0..<400 {
            let x: [Float] = [Float(random.below(6)), Float(random.uniform()), Float(random.below(4))]
            values += x
            labels.append(x[0] + 3 * x[1] > 3 ? 1 : 0)
        }
        var params = TrainingParams()
        try params.apply(["num_iterations=6", "num_leaves=4", "min_data_in_leaf=5"])
        let names = ["user_views_5m", "prod_ctr_24h", "up_views_24h"]
        let data = LabeledData(
            features: DenseMatrix(rows: 400, columns: 3, values: values, featureNames: names), labels: labels)
        try Booster.train(data, valid: nil, params: params).model.save(to: path)
    }

    @Test func theEmbeddedServerScoresWhatTheLibraryComputes() throws {
        let (project, dir) = try FeatureMemoryTests.project()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = try FeatureMemoryTests.traffic(seed: 13).map { String(decoding: $0, as: UTF8.self) }
        let (early, later) = (lines[..<15_000], lines[15_000...])
        try early.joined(separator: "\n").write(toFile: "\(dir)/events.jsonl", atomically: true, encoding: .utf8)
        try Self.model(path: "\(dir)/model.json")
        let child = try ChildProcess(
            Self.example, ["\(dir)/fsml.yaml", "\(dir)/model.json", "\(dir)/events.jsonl"],
            stdout: "\(dir)/out.log", stderr: "\(dir)/err.log")
        defer {
            child.signal(SIGTERM)
            _ = child.wait()
        }
        var port: Int?
        let deadline = monotonicNanos() + 120_000_000_000
        while port == nil && child.isRunning && monotonicNanos() < deadline {
            let out = (try? FileSystem.readText("\(dir)/out.log")) ?? ""
            port = out.split(separator: "\n").first { $0.hasPrefix("listening on ") }.flatMap { Int($0.dropFirst(13)) }
            if port == nil { usleep(20_000) }
        }
        let bound = try #require(port, "\((try? FileSystem.readText("\(dir)/err.log")) ?? "")")

        // The same events and model in this process.
        let memory = project.memory()
        for line in early { memory.ingest(line) }
        let scorer = try Scorer(path: "\(dir)/model.json")
        func score(_ request: [String: FieldValue]) throws -> Double {
            try scorer.score(memory.features(request, names: scorer.featureNames))
        }
        let requests: [[String: FieldValue]] = [
            ["user_id": "u_1", "product_id": "p_1", "session_id": "s_1"],
            ["user_id": "u_2", "product_id": "p_3", "session_id": "s_9", "price": 12.5],
            ["user_id": "nobody"],
        ]
        for request in requests {
            let body = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
            let answer = try HTTPGet.request(port: bound, method: "POST", path: "/score", body: body)
            #expect(answer.status == 200, "\(answer.body)")
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
            let served = try #require(json?["score"] as? Double)
            #expect(served == (try score(request)), "\(request)")
        }

        // Later events posted to the server move its features as they move the library's.
        let posted = try HTTPGet.request(
            port: bound, method: "POST", path: "/events", body: later.joined(separator: "\n"),
            contentType: "application/x-ndjson")
        #expect(posted.status == 202)
        for line in later { memory.ingest(line) }
        // The ids of the last event posted: their features count the posted events.
        let last = try JSONSerialization.jsonObject(with: Data(later.last!.utf8)) as? [String: Any] ?? [:]
        var busy: [String: FieldValue] = [:]
        for field in ["user_id", "product_id", "session_id"] {
            if let id = last[field] as? String { busy[field] = .string(id) }
        }
        #expect(busy.count == 3)
        let body = String(decoding: try JSONEncoder().encode(busy), as: UTF8.self)
        let answer = try HTTPGet.request(port: bound, method: "POST", path: "/score", body: body)
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        #expect(json?["score"] as? Double == (try score(busy)))
        // A body that is not a JSON object is the client's mistake.
        #expect(try HTTPGet.request(port: bound, method: "POST", path: "/score", body: "[1,").status / 100 == 4)
    }
}
