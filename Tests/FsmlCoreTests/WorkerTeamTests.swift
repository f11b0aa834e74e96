import FsmlCore
import Synchronization
import Testing

@Suite struct WorkerTeamTests {
    @Test(arguments: [1, 2, 3])
    func loopAfterLoopRunsEveryIndexOnce(size: Int) {
        let team = WorkerTeam(size: size)
        #expect(team.size == size)
        // Many short loops in a row, so that threads both catch loops while spinning and wake from
        // parking, and some loops are done by the caller before a thread arrives.
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { counts.deallocate() }
        for loop in 0..<5000 {
            let n = 2 + loop % 3
            counts.initialize(repeating: 0, count: 4)
            // Each index is written by the one member that claimed it.
            team.forEach(n) { i in counts[i] += 1 }
            #expect((0..<n).allSatisfy { counts[$0] == 1 } && (n..<4).allSatisfy { counts[$0] == 0 }, "loop \(loop)")
        }
    }

    @Test(arguments: [1, 2, 3])
    func forEachVisitsEveryIndexOnce(size: Int) {
        let team = WorkerTeam(size: size)
        for count in [0, 1, 2, 7, 1000, (1 << 20) + 5] {
            let visits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
            defer { visits.deallocate() }
            visits.initialize(repeating: 0, count: max(count, 1))
            // Each index is written by one member only, so plain memory suffices.
            team.forEach(count) { i in visits[i] += 1 }
            #expect((0..<count).allSatisfy { visits[$0] == 1 })
        }
    }

    @Test func droppedTeamsNeitherHangNorMixUpJobs() {
        // Creating and dropping teams must neither hang nor leak jobs into a later team.
        for _ in 0..<50 {
            let team = WorkerTeam(size: 2)
            let total = Atomic<Int>(0)
            team.forEach(100) { i in total.add(i, ordering: .relaxed) }
            #expect(total.load(ordering: .relaxed) == 4950)
        }
    }
}
