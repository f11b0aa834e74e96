import Foundation
import Synchronization

/// A fixed team of threads for loops that fork and join thousands of times a second (the trainer
/// does so several times per leaf). `run` hands one job to every member — the caller is member 0 —
/// and returns when all have finished it.
///
/// `DispatchQueue.concurrentPerform` wakes pool threads through the kernel on every call, some tens
/// of microseconds, which the trainer paid hundreds of times per tree. Here idle members first
/// spin on a generation counter, so a job that follows within microseconds starts at once, and park
/// on a condition variable only after that (between trees, or while the caller works alone).
public final class WorkerTeam: @unchecked Sendable {
    public let size: Int
    private let state: State

    /// A team of `size` members: the caller and `size - 1` threads.
    public init(size: Int) {
        self.size = max(1, size)
        state = State(workers: self.size - 1)
        for member in 1..<self.size {
            let thread = Thread { [state] in state.serve(member: member) }
            thread.name = "fsml-team-\(member)"
            thread.start()
        }
    }

    deinit { state.stop() }

    /// Runs `body(member)` for every member 0..<size at once and waits for all of them.
    public func run(_ body: (Int) -> Void) {
        if size == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { body in state.run(body) }
    }

    /// Runs `body(i)` for i in 0..<count, each index once, members taking the next index as they
    /// finish the last (so a member that is descheduled holds up one index, not a fixed share).
    public func forEach(_ count: Int, _ body: (Int) -> Void) {
        if size == 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        let next = Atomic<Int>(0)
        run { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { return }
                body(i)
            }
        }
    }

    private final class State: @unchecked Sendable {
        let workers: Int
        let generation = Atomic<Int>(0)
        let pending = Atomic<Int>(0)
        let sleepers = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        let condition = NSCondition()
        /// The current job; written before `generation` is bumped, cleared after every member is done.
        var job: ((Int) -> Void)?

        /// Loads of the generation before a member parks: long enough to cover the caller's serial
        /// work between the forks of one tree.
        static let idleSpins = 1 << 17
        /// Loads of the pending count between yields while the caller waits for the others.
        static let waitSpins = 1 << 12

        init(workers: Int) { self.workers = workers }

        func run(_ body: @escaping (Int) -> Void) {
            job = body
            pending.store(workers, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            // A member that counted itself a sleeper before the bump waits on the condition.
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            body(0)
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins >= Self.waitSpins {
                    spins = 0
                    sched_yield()
                }
            }
            job = nil
        }

        func serve(member: Int) {
            var seen = 0
            while true {
                var spins = 0
                while generation.load(ordering: .acquiring) == seen {
                    spins += 1
                    if spins >= Self.idleSpins {
                        park(seen: seen)
                        spins = 0
                    }
                }
                seen = generation.load(ordering: .acquiring)
                if stopping.load(ordering: .acquiring) { return }
                job!(member)
                pending.subtract(1, ordering: .releasing)
            }
        }

        private func park(seen: Int) {
            condition.lock()
            sleepers.add(1, ordering: .sequentiallyConsistent)
            while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            condition.unlock()
        }

        func stop() {
            stopping.store(true, ordering: .releasing)
            generation.add(1, ordering: .sequentiallyConsistent)
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
    }
}
