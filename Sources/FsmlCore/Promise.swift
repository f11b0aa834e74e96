import Foundation

/// A result another thread computes, waited for by one consumer: what lets a reader decode the
/// next row group while the caller works through the current one.
public final class Promise<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<T, any Error>?

    public init() {}

    public func fulfill(_ result: Result<T, any Error>) {
        condition.lock()
        self.result = result
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the result; throws the error it was fulfilled with.
    public func wait() throws -> T {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return try result!.get()
    }
}
