import Foundation
import Synchronization

/// A fixed team of threads for loops that fork and join thousands of times a second (the trainer
/// does so several times per leaf). `forEach` shares the indices of one loop among the caller and
/// the team's threads and returns when all are done.
///
/// `DispatchQueue.concurrentPerform` wakes pool threads through the kernel on every call, some tens
/// of microseconds, which the trainer paid hundreds of times per tree. Here idle threads first
/// spin on the team's job word, so a loop that follows within microseconds starts at once, and
/// park on a condition variable only after that (between trees, or while the caller works alone).
///
/// Indices are claimed, never assigned: on a machine busier than its cores, a thread that is not
/// running holds up nothing, as the caller and the others take the indices it would have taken.
public final class WorkerTeam: @unchecked Sendable {
    public let size: Int
    private let state: State

    /// A team of `size` members: the caller and `size - 1` threads.
    public init(size: Int) {
        self.size = max(1, size)
        state = State()
        for member in 1..<self.size {
            let thread = Thread { [state] in state.serve() }
            thread.name = "fsml-team-\(member)"
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Runs `body(i)` for i in 0..<count, each index once, on the caller and the team's threads,
    /// and returns when every call has returned.
    public func forEach(_ count: Int, _ body: (Int) -> Void) {
        if size == 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        // A job word holds at most `State.maxParts` parts; longer loops go in runs of indices.
        let parts = min(count, State.maxParts)
        withoutActuallyEscaping(body) { body in
            if parts == count {
                state.run(parts: parts, body)
            } else {
                state.run(parts: parts) { p in
                    for i in p * count / parts..<(p + 1) * count / parts { body(i) }
                }
            }
        }
    }

    private final class State: @unchecked Sendable {
        /// The job word: generation (24 bits), parts (20 bits), next unclaimed part (20 bits). One
        /// word, so that a claim (compare and exchange) also proves the job is still current.
        let word = Atomic<UInt64>(0)
        let done = Atomic<Int>(0)
        let sleepers = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        let condition = NSCondition()
        /// The current job; written before its word is published, cleared after every part is done.
        var job: ((Int) -> Void)?

        static let maxParts = (1 << 20) - 1
        /// Loads of the job word before an idle thread parks (a few hundred microseconds, about as
        /// long as OpenMP's threads spin before they sleep): long enough to cover the caller's serial
        /// work between the loops of one tree, which on small data (a few thousand rows, where the
        /// loops themselves take microseconds) is longer than the loops. No yields meanwhile:
        /// on a busy machine a yielding thread loses its core for a time slice and then misses the
        /// loops it spins for.
        static let idleSpins = 1 << 18
        /// Loads of the done count between yields while the caller waits for parts taken by others
        /// (long: the part is running; a yield helps only when its thread was descheduled).
        static let yieldEvery = 1 << 14

        static func generation(_ w: UInt64) -> UInt64 { w >> 40 }
        static func parts(_ w: UInt64) -> Int { Int((w >> 20) & 0xF_FFFF) }
        static func next(_ w: UInt64) -> Int { Int(w & 0xF_FFFF) }

        func run(parts: Int, _ body: @escaping (Int) -> Void) {
            job = body
            done.store(0, ordering: .relaxed)
            let generation = (Self.generation(word.load(ordering: .relaxed)) + 1) & 0xFF_FFFF
            word.store(generation << 40 | UInt64(parts) << 20, ordering: .sequentiallyConsistent)
            // A thread that counted itself a sleeper before the store waits on the condition.
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            work()
            var spins = 0
            while done.load(ordering: .acquiring) < parts {
                spins += 1
                if spins % Self.yieldEvery == 0 { sched_yield() }
            }
            job = nil
        }

        /// Claims and runs parts of the current job until none is left.
        private func work() {
            var w = word.load(ordering: .acquiring)
            while Self.next(w) < Self.parts(w) {
                let (exchanged, original) = word.compareExchange(
                    expected: w, desired: w + 1, ordering: .acquiringAndReleasing)
                if exchanged {
                    job!(Self.next(w))
                    done.add(1, ordering: .releasing)
                    w = word.load(ordering: .acquiring)
                } else {
                    w = original
                }
            }
        }

        func serve() {
            var seen = word.load(ordering: .acquiring) >> 40
            while true {
                var spins = 0
                while Self.generation(word.load(ordering: .acquiring)) == seen {
                    spins += 1
                    if spins >= Self.idleSpins {
                        park(seen: seen)
                        if stopping.load(ordering: .acquiring) { return }
                        spins = 0
                    }
                }
                if stopping.load(ordering: .acquiring) { return }
                seen = Self.generation(word.load(ordering: .acquiring))
                work()
            }
        }

        private func park(seen: UInt64) {
            condition.lock()
            sleepers.add(1, ordering: .sequentiallyConsistent)
            while Self.generation(word.load(ordering: .sequentiallyConsistent)) == seen
                && !stopping.load(ordering: .sequentiallyConsistent)
            {
                condition.wait()
            }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            condition.unlock()
        }

        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
    }
}
