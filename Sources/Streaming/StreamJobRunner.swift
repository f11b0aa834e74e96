import Foundation
import FsmlCore
import Synchronization

/// Runs a stream job on a thread of its own for a server, and keeps it running: a job that fails
/// is made again (from its checkpoint) and restarted with capped exponential backoff, and what it is
/// doing is readable at any time, so that the server can say it is not ready instead of serving
/// features that silently stopped updating.
public final class StreamJobRunner: @unchecked Sendable {
    public enum Status: Sendable, Equatable {
        case starting
        case running
        /// The source ended (`--until-end`): the states are final.
        case finished
        case failed(String)
        case stopped
    }

    private var first: StreamJob?
    private let make: () throws -> StreamJob
    private let started: (StreamJob) throws -> Void
    private let policy: RetryPolicy
    private let metrics: MetricsRegistry
    private let labels: [(String, String)]
    private let lock = NSLockLite()
    private var current: StreamJob?
    private var state = Status.starting
    /// Whether the thread has ended, and who waits for it to.
    private let ending = Mutex<(done: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    /// `first` is a job already started (so that a bad flag or checkpoint fails the command at
    /// once); `make` builds a new one after a failure (it resumes from its checkpoint); `started`
    /// runs after each start, before the job reads its source (a server fills its memory from the
    /// job's states there), and has run for `first`.
    public init(
        first: StreamJob, policy: RetryPolicy = .standard, metrics: MetricsRegistry, labels: [(String, String)],
        make: @escaping () throws -> StreamJob, started: @escaping (StreamJob) throws -> Void
    ) {
        self.first = first
        self.make = make
        self.started = started
        self.policy = policy
        self.metrics = metrics
        self.labels = labels
        metrics.add(
            "fsml_stream_restarts_total", 0, help: "Times the stream job was restarted after failing.", labels: labels)
        metrics.set(
            "fsml_stream_up", 0, help: "1 while the stream job runs or has finished its source.", labels: labels)
    }

    public var status: Status { lock.withLock { state } }

    /// Why the job does not keep the served features current, or nil when it does.
    public var notReadyReason: String? {
        let (status, job) = lock.withLock { (state, current) }
        switch status {
        case .starting: return "the stream job is starting"
        case .failed(let why): return "the stream job failed (\(why)); restarting"
        case .stopped: return "the stream job stopped"
        case .finished: return nil
        case .running: return job?.storeIsFailing == true ? "the stream job cannot write its online store" : nil
        }
    }

    /// Starts the thread.
    public func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "fsml-stream-job"
        thread.start()
    }

    /// Returns once the thread has ended (after `StopSignal.raise()`, or once the source ended),
    /// without holding a thread meanwhile.
    public func finished() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = ending.withLock {
                if !$0.done { $0.waiting.append(c) }
                return $0.done
            }
            if done { c.resume() }
        }
    }

    private func end() {
        let waiting = ending.withLock {
            $0.done = true
            return $0.waiting
        }
        for c in waiting { c.resume() }
    }

    private func set(_ status: Status, job: StreamJob? = nil) {
        lock.withLock {
            state = status
            current = job
        }
        metrics.set("fsml_stream_up", status == .running || status == .finished ? 1 : 0, labels: labels)
    }

    private func loop() {
        var failures = 0
        defer { end() }
        while !StopSignal.isRaised {
            var job: StreamJob?
            do {
                let made: StreamJob
                if let first {
                    made = first
                    self.first = nil
                } else {
                    made = try make()
                    job = made  // closed if starting fails
                    try made.start()
                    try started(made)
                }
                job = made
                set(.running, job: made)
                _ = try made.run()
                made.close()
                set(StopSignal.isRaised ? .stopped : .finished)
                return
            } catch {
                job?.close()
                failures += 1
                let delay = policy.delay(afterFailures: failures)
                set(.failed("\(error)"))
                metrics.add("fsml_stream_restarts_total", labels: labels)
                StandardError.line(
                    "fsml serve: stream job failed: \(error); restarting in \(DurationText.human(seconds: delay))")
                let until = monotonicNanos() + UInt64(delay * 1e9)
                while monotonicNanos() < until && !StopSignal.isRaised { usleep(20_000) }
            }
        }
        set(.stopped)
    }
}
