import FsmlCore
import Serving

/// Bodies of POST /predict and /rank: a request, or a client error (4xx) whose JSON body parses.
enum RequestBodyTarget {
    static let target = FuzzTarget(name: "request-body", summary: "the bodies of /predict and /rank", run: run)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let body = Array(bytes)
        do { _ = try ServeRequests.predict(body) } catch { check(error) }
        do { _ = try ServeRequests.rank(body) } catch { check(error) }
    }

    private static func check(_ error: RequestError) {
        mustHold((400..<500).contains(error.status), "a request body gave status \(error.status)")
        mustHold((try? JSONParser.parse(error.json)) != nil, "an error body is not JSON: \(error.json)")
    }
}
