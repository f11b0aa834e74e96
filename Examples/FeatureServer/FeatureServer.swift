import FSML
import Foundation
import Hummingbird

/// fsml embedded in a Hummingbird service: the features of a project's fsml.yaml, folded in this
/// process from an events file and from events posted to /events, scored by a trained model on
/// /score. No CLI, no online store: the library's `FeatureMemory` and `Scorer`.
///
///     FeatureServerExample FSML_YAML MODEL_JSON EVENTS_JSONL [PORT]
@main
struct FeatureServer {
    struct Scored: ResponseEncodable {
        let score: Double
        let missing: [String]
    }

    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 4 else {
            FileHandle.standardError.write(
                Data("usage: FeatureServerExample FSML_YAML MODEL_JSON EVENTS_JSONL [PORT]\n".utf8))
            exit(2)
        }
        let project = try FeatureProject(path: args[1])
        let scorer = try Scorer(path: args[2])
        let memory = project.memory()
        for line in try String(contentsOfFile: args[3], encoding: .utf8).split(separator: "\n") {
            memory.ingest(String(line))
        }

        let router = Router()
        router.post("/events") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 64 << 20)
            for line in String(buffer: body).split(separator: "\n") { memory.ingest(String(line)) }
            return .accepted
        }
        router.post("/score") { request, context -> Scored in
            let fields = try await request.decode(as: [String: FieldValue].self, context: context)
            let vector = try memory.features(fields, names: scorer.featureNames)
            return Scored(score: scorer.score(vector), missing: vector.missing)
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: args.count > 4 ? Int(args[4]) ?? 0 : 0)),
            onServerRunning: {
                // Unbuffered, so a supervisor reading a pipe sees the port at once.
                FileHandle.standardOutput.write(Data("listening on \($0.localAddress?.port ?? 0)\n".utf8))
            })
        try await app.runService()
    }
}
