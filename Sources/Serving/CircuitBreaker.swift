import FsmlCore

/// Keeps requests from waiting on an online store that fails. Closed, requests read the store;
/// the first failure opens it, and while it is open no request touches the store (each is answered
/// at once, degraded). Only the background `StoreWatch` probes an open breaker, and its first
/// success closes it, so a hung store costs a request at most one read's budget, and only the
/// requests that were already reading when it hung.
final class CircuitBreaker: @unchecked Sendable {
    private let lock = NSLockLite()
    private var open = false
    private var openedAt: UInt64 = 0
    private(set) var openings = 0

    /// Whether requests may read the store now.
    var allowsRequests: Bool { lock.withLock { !open } }

    /// Records a failure; true when this failure opened the breaker (for a single log line).
    @discardableResult
    func failed() -> Bool {
        lock.withLock {
            guard !open else { return false }
            open = true
            openedAt = monotonicNanos()
            openings += 1
            return true
        }
    }

    /// Records a success; the seconds the breaker was open when this success closed it.
    @discardableResult
    func succeeded() -> Double? {
        lock.withLock {
            guard open else { return nil }
            open = false
            return Double(monotonicNanos() - openedAt) / 1e9
        }
    }
}
