import Dispatch

/// Data-parallel loops whose results do not depend on the number of threads: work is cut into
/// parts by the caller's indices, never by thread, and results land in index order.
public enum Parallel {
    /// Threads to use: FSML_THREADS when set, else the active processor count.
    public static var defaultThreads: Int {
        if let text = getenvString("FSML_THREADS"), let n = Int(text), n > 0 { return n }
        return max(1, systemCoreCount())
    }

    /// Runs `body(i)` for i in 0..<count on up to `threads` threads and returns the results in
    /// index order.
    public static func map<T>(_ count: Int, threads: Int = defaultThreads, _ body: (Int) throws -> T) rethrows -> [T] {
        if count == 0 { return [] }
        if threads <= 1 || count == 1 { return try (0..<count).map(body) }
        return try withoutActuallyEscaping(body) { body in
            let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
            results.initialize(repeating: nil)
            defer {
                results.deinitialize()
                results.deallocate()
            }
            let firstError = ErrorSlot()
            let box = UncheckedBox(body)
            let slots = UncheckedBox(results)
            let next = AtomicCounter()
            DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
                while true {
                    let i = next.increment()
                    if i >= count || firstError.isSet { return }
                    do {
                        slots.value[i] = try box.value(i)
                    } catch {
                        firstError.set(error)
                    }
                }
            }
            if let error = firstError.error { try rethrowing(error) }
            return results.map { $0! }
        }
    }

    /// Runs `body(i)` for i in 0..<count in parallel; for side effects on disjoint memory.
    public static func forEach(_ count: Int, threads: Int = defaultThreads, _ body: (Int) throws -> Void) rethrows {
        _ = try map(count, threads: threads, body)
    }

    // `rethrows` functions may only throw errors from their closure; this rethrows one that came from it.
    private static func rethrowing(_ error: any Error) throws -> Never { throw error }
}

/// A value handed to worker threads whose safety the caller guarantees (disjoint writes).
public struct UncheckedBox<T>: @unchecked Sendable {
    public var value: T
    public init(_ value: T) { self.value = value }
}

final class ErrorSlot: @unchecked Sendable {
    private let lock = NSLockLite()
    private(set) var error: (any Error)?
    var isSet: Bool { lock.withLock { error != nil } }
    func set(_ e: any Error) { lock.withLock { if error == nil { error = e } } }
}

/// A counter shared by worker threads.
public final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLockLite()
    private var value = 0
    public init() {}
    /// Returns the value before the increment.
    public func increment() -> Int {
        lock.withLock {
            let v = value
            value += 1
            return v
        }
    }
}
