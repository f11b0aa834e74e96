import Foundation
import Testing

@testable import FsmlCore

@Suite struct SerialWorkerTests {
    final class Log: @unchecked Sendable {
        let lock = NSLockLite()
        var items: [Int] = []
        var maxWaiting = 0
        func add(_ i: Int) { lock.withLock { items.append(i) } }
    }

    @Test func runsJobsInOrderAndDrainWaitsForAll() throws {
        let worker = SerialWorker(name: "test", depth: 3)
        let log = Log()
        for i in 0..<200 {
            try worker.submit {
                if i % 50 == 0 { usleep(2_000) }
                log.add(i)
            }
        }
        try worker.drain()
        #expect(log.items == Array(0..<200))
        worker.stop()
    }

    @Test func theFirstFailureStopsTheWorkerAndIsThrownAfter() throws {
        struct Boom: Error, Equatable { let n: Int }
        let worker = SerialWorker(name: "test", depth: 2)
        let log = Log()
        try worker.submit { log.add(1) }
        try worker.submit { throw Boom(n: 2) }
        #expect(throws: Boom(n: 2)) { try worker.drain() }
        #expect(throws: Boom(n: 2)) { try worker.submit { log.add(3) } }
        #expect(log.items == [1])
    }

    @Test func aFullQueueMakesSubmitWait() throws {
        let worker = SerialWorker(name: "test", depth: 1)
        let gate = NSCondition()
        nonisolated(unsafe) var open = false
        let picked = DispatchSemaphore(value: 0)
        try worker.submit {
            picked.signal()
            gate.lock()
            while !open { gate.wait() }
            gate.unlock()
        }
        picked.wait()  // the worker holds the first job, so the queue is empty again
        try worker.submit {}  // waits in the queue (depth 1)
        // A plain thread opens the gate: the test's own threads may all be busy.
        Thread {
            usleep(200_000)
            gate.lock()
            open = true
            gate.broadcast()
            gate.unlock()
        }.start()
        try worker.submit {}  // blocks until the first job ends
        #expect(gate.withLock { open }, "submit returned while the queue was full")
        try worker.drain()
        worker.stop()
    }
}
