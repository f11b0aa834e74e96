import FsmlCore
import GBDT
import Tracking

/// The trials' open runs, written from the study's worker threads.
final class TrialRuns: @unchecked Sendable {
    private let lock = NSLockLite()
    private var open: [Int: RunWriter] = [:]
    private var all: [Int: String] = [:]

    func add(_ n: Int, _ run: RunWriter) { lock.withLock { (open[n], all[n]) = (run, run.id) } }
    func get(_ n: Int) -> RunWriter? { lock.withLock { open[n] } }
    func remove(_ n: Int) { _ = lock.withLock { open.removeValue(forKey: n) } }
    var ids: [Int: String] { lock.withLock { all } }

    func failAll() {
        for run in lock.withLock({ Array(open.values) }) { try? run.end(.failed) }
    }
}

/// The best complete trial so far, as trials end.
final class BestSoFar: @unchecked Sendable {
    private let lock = NSLockLite()
    private let higherIsBetter: Bool
    private var best: (number: Int, value: Double)?

    init(higherIsBetter: Bool) { self.higherIsBetter = higherIsBetter }

    func update(_ t: TrialResult) -> (number: Int, value: Double)? {
        lock.withLock {
            if !t.pruned && !t.value.isNaN {
                if let b = best {
                    let better = higherIsBetter ? t.value > b.value : t.value < b.value
                    if better || (t.value == b.value && t.number < b.number) { best = (t.number, t.value) }
                } else {
                    best = (t.number, t.value)
                }
            }
            return best
        }
    }
}
