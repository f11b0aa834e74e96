import FsmlCore

/// How the stream job waits out an online store that fails (down, restarting, hung): capped
/// exponential backoff, forever by default, so that the job resumes without loss when the store
/// returns.
public struct RetryPolicy: Sendable, Equatable {
    public var initialDelay: Double
    public var maxDelay: Double
    /// Attempts before giving up; nil: never give up.
    public var maxAttempts: Int?

    public static let standard = RetryPolicy(initialDelay: 0.1, maxDelay: 30, maxAttempts: nil)

    public init(initialDelay: Double, maxDelay: Double, maxAttempts: Int?) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// The wait after the `failures`-th failure in a row (1, 2, ...): doubling, capped.
    public func delay(afterFailures failures: Int) -> Double {
        min(maxDelay, initialDelay * Double(1 << min(failures - 1, 40)))
    }
}
