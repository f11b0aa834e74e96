import Foundation

/// One background thread that runs submitted jobs in order: what lets a producer (the stream
/// job's fold loop) hand slow output (a Redis round trip, Parquet encoding) to another core and go
/// on. At most `depth` jobs wait; `submit` blocks while the queue is full (backpressure). The first
/// failure stops the worker and is thrown by every later `submit` and `drain`.
public final class SerialWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private let depth: Int
    private var queue: [() throws -> Void] = []
    private var running = false
    private var stopped = false
    private var failure: (any Error)?

    public init(name: String, depth: Int = 2) {
        self.depth = depth
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Queues a job; waits while `depth` jobs are waiting.
    public func submit(_ job: @escaping () throws -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= depth && failure == nil { condition.wait() }
        if let failure { throw failure }
        queue.append(job)
        condition.broadcast()
    }

    /// Waits until every submitted job has run.
    public func drain() throws {
        condition.lock()
        defer { condition.unlock() }
        while (!queue.isEmpty || running) && failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// Lets the thread end once the queue is empty.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty || failure != nil {
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            running = true
            condition.unlock()
            var error: (any Error)?
            do { try job() } catch let e { error = e }
            condition.lock()
            running = false
            if let error {
                failure = error
                queue.removeAll()
            }
            condition.broadcast()
            condition.unlock()
        }
    }
}
