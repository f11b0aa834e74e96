import Foundation
import FsmlCore
import Testing

@testable import Serving

/// The follower against a live /metrics route whose stream position the test moves: items come
/// only from lines the stream has not consumed, at most `window` of them ahead.
@Suite(.serialized) struct StreamFollowerTests {
    @Test func readsTheSourceLinesGauge() {
        let body = """
            # HELP fsml_stream_source_lines_total Not this one.
            fsml_stream_source_lines_total 7
            # TYPE fsml_stream_source_lines gauge
            fsml_stream_source_lines{job="stream"} 1234
            """
        #expect(StreamFollower<Int>.sourceLines(inMetrics: Array(body.utf8)) == 1234)
        #expect(StreamFollower<Int>.sourceLines(inMetrics: Array("fsml_stream_source_lines 5\n".utf8)) == 5)
        #expect(StreamFollower<Int>.sourceLines(inMetrics: Array("fsml_stream_events_total 5\n".utf8)) == nil)
    }

    /// Async, and waiting without blocking a thread: the server's task needs a thread of the
    /// cooperative pool, which has as many as the machine has cores (two here), and another test
    /// may block one.
    @Test func offersOnlyItemsPastTheStreamPosition() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-follow-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Line i holds {"n":i}; only even lines make items.
        try (0..<20).map { "{\"n\":\($0)}\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
        let metrics = MetricsRegistry()
        metrics.set("fsml_stream_source_lines", 4)
        var routes = HTTPRoutes()
        ServeHTTP.addHealthAndMetrics(to: &routes, metrics: metrics)
        let served = routes
        let once = Once()
        var server: Task<Void, Never>?
        let port = try await withCheckedThrowingContinuation { (bound: CheckedContinuation<Int, any Error>) in
            server = Task {
                do {
                    try await HTTPServer.run(
                        routes: served, metrics: metrics, host: "127.0.0.1", port: 0, limits: ServeHTTP.Limits(),
                        handleSignals: false
                    ) { port in once.run { bound.resume(returning: port) } }
                } catch {
                    once.run { bound.resume(throwing: error) }
                }
            }
        }
        defer { server?.cancel() }
        let follower = try StreamFollower<Int>(path: path, host: "127.0.0.1", port: port, window: 2) { line in
            let text = String(decoding: line, as: UTF8.self)
            guard let n = Int(text.dropFirst(5).dropLast()), n % 2 == 0 else { return nil }
            return n
        }
        defer { follower.stop() }
        func waitFor(_ lines: Int) async throws {
            while follower.position.lines != lines { try await Task.sleep(nanoseconds: 1_000_000) }
        }
        try await waitFor(4)
        follower.catchUp()
        #expect(Set((0..<200).compactMap { follower.item(UInt64($0)) }) == [4, 6])
        metrics.set("fsml_stream_source_lines", 11)
        try await waitFor(11)
        #expect(Set((0..<200).compactMap { follower.item(UInt64($0)) }) == [12, 14])
        // Past the end of the file, the last item offered (lines the stream consumed are never parsed).
        metrics.set("fsml_stream_source_lines", 20)
        try await waitFor(20)
        #expect(follower.item(0) == 14)
    }

    /// Runs a closure at most once, from any thread.
    final class Once: @unchecked Sendable {
        private let lock = NSLockLite()
        private var done = false

        func run(_ body: () -> Void) {
            let first = lock.withLock {
                defer { done = true }
                return !done
            }
            if first { body() }
        }
    }
}
