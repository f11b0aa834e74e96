import FsmlCore
import Serving

/// Bodies of POST /predict and /rank under the fuzzed project's serving contract: a request that
/// names every required key field, or a client error (4xx) whose JSON body parses.
enum RequestBodyTarget {
    static let target = FuzzTarget(name: "request-body", summary: "the bodies of /predict and /rank", run: run)
    static let contract = ServingContract(
        registry: FuzzedProject.registry, features: FuzzedProject.registry.servedFeatures)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let body = Array(bytes)
        do {
            let fields = try ServeRequests.predict(body, contract: contract)
            mustHold(
                contract.required.allSatisfy { fields.keys[$0] != nil }, "a predict request lacks a required field")
        } catch { check(error) }
        do {
            let rank = try ServeRequests.rank(body, contract: contract)
            mustHold(!rank.candidates.isEmpty && rank.candidates.count <= ServeRequests.maxCandidates, "candidates")
        } catch { check(error) }
    }

    private static func check(_ error: RequestError) {
        mustHold((400..<500).contains(error.status), "a request body gave status \(error.status)")
        mustHold((try? JSONParser.parse(error.json)) != nil, "an error body is not JSON: \(error.json)")
    }
}
