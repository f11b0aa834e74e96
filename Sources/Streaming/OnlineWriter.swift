import FeatureCore
import Foundation
import FsmlCore
import Synchronization

/// Writes micro-batches of entity states to the online store on its own thread (a
/// `SerialWorker`), so that the job folds the next batch while the store takes this one. `drain()`
/// returns once everything submitted is written: the job calls it before a checkpoint, which must
/// only record what the store holds.
///
/// A failing store is retried under the job's `RetryPolicy`, one log line per attempt. After each
/// batch the writer checks its marker key: a store that lost it (a Redis restarted without
/// persistence) lost every state, and `takeStoreLost()` tells the job to write them all again.
final class OnlineWriter: @unchecked Sendable {
    struct Batch {
        var states: PackedStates
        /// When each admitted event of the batch was read (monotonic ns), for freshness.
        var readTimes: [UInt64]
        /// The job's event-time clock after the batch.
        var clock: Micros?

        init(states: PackedStates, readTimes: [UInt64], clock: Micros?) {
            self.states = states
            self.readTimes = readTimes
            self.clock = clock
        }

        init(records: [StateRecord], readTimes: [UInt64], clock: Micros?) {
            self.init(states: PackedStates(records), readTimes: readTimes, clock: clock)
        }
    }

    /// What the writer measured, taken by the job for its report and metrics.
    struct Measurements {
        var statesWritten = 0
        var batches = 0
        var writeSeconds: [Double] = []
        var freshnessSeconds: [Double] = []
    }

    private let store: any OnlineStore
    private let worker = SerialWorker(name: "fsml-online-writer")
    private let lock = NSLockLite()
    private var measured = Measurements()
    private let policy: RetryPolicy
    private let metrics: MetricsRegistry
    private let labels: [(String, String)]
    /// This run's marker: the key is the job's, the token new each run.
    private let marker: (name: String, token: String)
    private var markerWritten = false
    private let storeLost = Atomic<Bool>(false)
    private let retrying = Atomic<Bool>(false)
    /// Batches submitted and not yet written or failed.
    private let pending = Atomic<Int>(0)
    private let failed = Atomic<Bool>(false)

    init(store: any OnlineStore, job: String, policy: RetryPolicy, metrics: MetricsRegistry, labels: [(String, String)])
    {
        self.store = store
        self.policy = policy
        self.metrics = metrics
        self.labels = labels
        marker = (job, "\(job)-\(wallClockMicros())-\(UInt32.random(in: 0..<UInt32.max))")
        metrics.add("fsml_stream_store_errors_total", 0, help: "Failed writes to the online store.", labels: labels)
        metrics.add(
            "fsml_stream_store_losses_total", 0, help: "Times the online store was found to have lost its states.",
            labels: labels)
        metrics.set(
            "fsml_stream_store_retrying", 0, help: "1 while writes to the online store fail and are retried.",
            labels: labels)
    }

    /// Queues a batch; waits while the queue is full. Throws the writer's failure, if any.
    func submit(_ batch: Batch) throws {
        pending.add(1, ordering: .relaxed)
        do { try worker.submit { [self] in try write(batch) } } catch {
            pending.subtract(1, ordering: .relaxed)
            throw error
        }
    }

    /// Whether a submitted batch is still being written: the job then goes on folding, and its
    /// next batch holds every state changed meanwhile, each encoded and written once.
    var isBusy: Bool { pending.load(ordering: .acquiring) > 0 && !failed.load(ordering: .relaxed) }

    private func write(_ batch: Batch) throws {
        defer { pending.subtract(1, ordering: .releasing) }
        do {
            let begin = monotonicNanos()
            try retry("writing \(batch.states.count) states to \(store.description)") {
                // The marker goes in before the first state, so that no state is ever in the store
                // without it: its absence then means that everything written may be gone.
                if !markerWritten {
                    try store.writeMarker(marker.name, token: marker.token)
                    markerWritten = true
                }
                try store.write(packed: batch.states)
                if let clock = batch.clock { try store.writeClock(clock) }
                try checkMarker()
            }
            let end = monotonicNanos()
            lock.withLock {
                measured.statesWritten += batch.states.count
                measured.batches += 1
                measured.writeSeconds.append(Double(end - begin) / 1e9)
                for t in batch.readTimes { measured.freshnessSeconds.append(Double(end - t) / 1e9) }
            }
        } catch {
            failed.store(true, ordering: .relaxed)
            throw error
        }
    }

    /// Whether the store was found to have lost its states since the last call.
    func takeStoreLost() -> Bool { storeLost.exchange(false, ordering: .acquiringAndReleasing) }

    /// Whether writes are failing and being retried now.
    var isRetrying: Bool { retrying.load(ordering: .relaxed) }

    /// Finds the marker gone when the store lost its data, and puts it back.
    private func checkMarker() throws {
        guard try store.readMarker(marker.name) != marker.token else { return }
        storeLost.store(true, ordering: .releasing)
        metrics.add("fsml_stream_store_losses_total", labels: labels)
        StandardError.line(
            "fsml stream: \(store.description) lost this job's states (restarted empty?); writing all of them again")
        try store.writeMarker(marker.name, token: marker.token)
    }

    /// Waits until every submitted batch is written. Throws the writer's failure, if any.
    func drain() throws { try worker.drain() }

    /// The measurements since the last call.
    func take() -> Measurements {
        lock.withLock {
            defer { measured = Measurements() }
            return measured
        }
    }

    func stop() { worker.stop() }

    /// Runs `body` until it succeeds, waiting after each failure as the policy says; gives up
    /// after `maxAttempts`, or when the job is asked to stop (its last checkpoint stays as it was).
    private func retry(_ what: String, _ body: () throws -> Void) throws {
        var failures = 0
        defer {
            if failures > 0 {
                retrying.store(false, ordering: .relaxed)
                metrics.set("fsml_stream_store_retrying", 0, labels: labels)
            }
        }
        while true {
            do {
                try body()
                if failures > 0 { StandardError.line("fsml stream: \(what): succeeded after \(failures) failures") }
                return
            } catch {
                failures += 1
                metrics.add("fsml_stream_store_errors_total", labels: labels)
                if failures == 1 {
                    retrying.store(true, ordering: .relaxed)
                    metrics.set("fsml_stream_store_retrying", 1, labels: labels)
                }
                if let max = policy.maxAttempts, failures >= max {
                    throw StreamError("\(what): \(error) (after \(failures) attempts)")
                }
                let delay = policy.delay(afterFailures: failures)
                StandardError.line(
                    "fsml stream: \(what): \(error); attempt \(failures) failed, retrying in \(DurationText.human(seconds: delay))"
                )
                let until = monotonicNanos() + UInt64(delay * 1e9)
                while monotonicNanos() < until {
                    if StopSignal.isRaised {
                        throw StreamError("\(what): stopped while the store kept failing: \(error)")
                    }
                    sleepNanos(min(50_000_000, until - monotonicNanos()))
                }
            }
        }
    }
}
