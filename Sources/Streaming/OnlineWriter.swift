import FeatureCore
import Foundation
import FsmlCore
import OnlineStorage

/// Writes micro-batches of entity states to the online store on its own thread (a
/// `SerialWorker`), so that the job folds the next batch while the store takes this one. `drain()`
/// returns once everything submitted is written: the job calls it before a checkpoint, which must
/// only record what the store holds.
final class OnlineWriter: @unchecked Sendable {
    struct Batch {
        var records: [StateRecord]
        /// When each admitted event of the batch was read (monotonic ns), for freshness.
        var readTimes: [UInt64]
        /// The job's event-time clock after the batch.
        var clock: Micros?
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

    init(store: any OnlineStore) { self.store = store }

    /// Queues a batch; waits while the queue is full. Throws the writer's failure, if any.
    func submit(_ batch: Batch) throws {
        try worker.submit { [self] in
            let begin = monotonicNanos()
            try Self.retrying("writing \(batch.records.count) states to \(store.description)") {
                try store.write(batch.records)
                if let clock = batch.clock { try store.writeClock(clock) }
            }
            let end = monotonicNanos()
            lock.withLock {
                measured.statesWritten += batch.records.count
                measured.batches += 1
                measured.writeSeconds.append(Double(end - begin) / 1e9)
                for t in batch.readTimes { measured.freshnessSeconds.append(Double(end - t) / 1e9) }
            }
        }
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

    /// Retries a write on failure (a Redis restart, a busy SQLite file) with backoff, then gives
    /// up: the job exits non-zero and a restart resumes from the last checkpoint.
    static func retrying(_ what: String, _ body: () throws -> Void) throws {
        var delay = 0.1
        for attempt in 1...4 {
            do {
                return try body()
            } catch {
                guard attempt < 4 else { throw StreamError("\(what): \(error) (after \(attempt) attempts)") }
                StandardError.line("fsml stream: \(what): \(error); retrying in \(delay) s")
                sleepNanos(UInt64(delay * 1e9))
                delay *= 4
            }
        }
    }
}
