import FeatureCore
import Foundation
import FsmlCore
import Synchronization

/// A background thread that reads the store's clock every `interval` on a connection of its own:
/// the probe that closes the circuit breaker once the store answers again, and the stream clock a
/// `--clock stream` server serves as of, without any request ever waiting for either.
final class StoreWatch: @unchecked Sendable {
    private let store: any OnlineStore
    private let breaker: CircuitBreaker
    private let metrics: MetricsRegistry
    private let interval: Double
    private let clock = Atomic<Int64>(Int64.min)
    private let stopped = Atomic<Bool>(false)
    private let reads = Atomic<Int>(0)

    init(store: any OnlineStore, breaker: CircuitBreaker, metrics: MetricsRegistry, interval: Double = 0.05) {
        self.store = store
        self.breaker = breaker
        self.metrics = metrics
        self.interval = interval
        probe()
        let thread = Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                sleepNanos(UInt64(self.interval * 1e9))
                probe()
            }
        }
        thread.name = "fsml-store-watch"
        thread.start()
    }

    /// The stream clock last read; nil before one was.
    var latestClock: Micros? {
        let c = clock.load(ordering: .relaxed)
        return c == Int64.min ? nil : c
    }

    /// How many probes have completed (tests wait on it).
    var probes: Int { reads.load(ordering: .relaxed) }

    func stop() { stopped.store(true, ordering: .relaxed) }

    private func probe() {
        defer { reads.add(1, ordering: .relaxed) }
        do {
            if let c = try store.readClock() { clock.store(c, ordering: .relaxed) }
            if let seconds = breaker.succeeded() {
                StandardError.line(
                    "fsml serve: online store \(store.description) answers again after \(DurationText.human(seconds: seconds))"
                )
            }
        } catch {
            if breaker.failed() {
                metrics.add("fsml_serve_store_errors_total", help: "Online store reads that failed or timed out.")
                StandardError.line("fsml serve: online store \(store.description): \(error); answering degraded")
            }
        }
    }
}
