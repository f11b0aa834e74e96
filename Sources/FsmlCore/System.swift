import Foundation

/// A pthread mutex; Foundation's NSLock is fine too but this one is a plain final class that can be
/// declared Sendable.
public final class NSLockLite: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

public func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

public func systemCoreCount() -> Int { ProcessInfo.processInfo.activeProcessorCount }

/// Wall-clock microseconds since the epoch.
public func wallClockMicros() -> Micros {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Micros(ts.tv_sec) * 1_000_000 + Micros(ts.tv_nsec / 1000)
}

/// Monotonic nanoseconds, for measuring durations.
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time the calling thread has used, in nanoseconds: what a single-threaded measurement
/// reports, so that other processes on the machine do not inflate it the way they inflate wall time.
public func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Peak resident set size of this process in bytes (VmHWM).
/// Sleeps the calling thread.
public func sleepNanos(_ nanos: UInt64) {
    var ts = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
    _ = nanosleep(&ts, nil)
}

public func peakRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
        return kb * 1024
    }
    return 0
}

/// The memory this process may use, in bytes: the machine's physical memory, or the control
/// group's limit (`memory.max`, cgroup v2; `memory.limit_in_bytes`, v1) when that is lower, as a
/// container sees it.
public func availableMemoryBytes() -> Int {
    let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    let limits = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"].compactMap { path in
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
    return limits.filter { $0 > 0 }.reduce(physical) { min($0, $1) }
}

/// Standard error, line by line; all logs and errors go here, data goes to stdout.
public enum StandardError {
    private static let lock = NSLockLite()

    public static func write(_ text: String) {
        lock.withLock {
            var t = text
            t.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = Foundation.write(2, bytes.baseAddress! + offset, bytes.count - offset)
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }

    public static func line(_ text: String) { write(text + "\n") }

    public static var isTerminal: Bool { isatty(2) == 1 }
}

/// Writes text to standard output without Swift's print buffering surprises in mixed output.
public enum StandardOutput {
    public static func write(_ text: String) {
        var t = text
        t.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Foundation.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { return }
                offset += n
            }
        }
    }
}

/// Raises this process's soft limit on open files to its hard limit (capped at 1 << 20), and
/// returns the limit now in force: what a server sizes its connection limit from.
@discardableResult
public func raiseOpenFileLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    let wanted = min(limit.rlim_max, 1 << 20)
    if limit.rlim_cur < wanted {
        var raised = limit
        raised.rlim_cur = wanted
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    return Int(limit.rlim_cur)
}
