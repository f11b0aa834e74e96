import FsmlCore
import Synchronization
import Testing

@Suite struct WorkerTeamTests {
    @Test(arguments: [1, 2, 3])
    func everyMemberRunsEveryJobOnce(size: Int) {
        let team = WorkerTeam(size: size)
        #expect(team.size == size)
        // Many jobs in a row, so that members both catch jobs while spinning and wake from parking.
        // Each member writes its own slot only.
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: size)
        defer { counts.deallocate() }
        for job in 0..<2000 {
            counts.initialize(repeating: 0, count: size)
            team.run { member in counts[member] += 1 }
            for member in 0..<size { #expect(counts[member] == 1, "job \(job)") }
        }
    }

    @Test(arguments: [1, 2, 3])
    func forEachVisitsEveryIndexOnce(size: Int) {
        let team = WorkerTeam(size: size)
        for count in [0, 1, 2, 7, 1000] {
            let visits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
            defer { visits.deallocate() }
            visits.initialize(repeating: 0, count: max(count, 1))
            // Each index is written by one member only, so plain memory suffices.
            team.forEach(count) { i in visits[i] += 1 }
            #expect((0..<count).allSatisfy { visits[$0] == 1 })
        }
    }

    @Test func aTeamThatIsDroppedLetsItsThreadsEnd() {
        // Creating and dropping teams must neither hang nor leak jobs into a later team.
        for _ in 0..<50 {
            let team = WorkerTeam(size: 2)
            let total = Atomic<Int>(0)
            team.forEach(100) { i in total.add(i, ordering: .relaxed) }
            #expect(total.load(ordering: .relaxed) == 4950)
        }
    }
}
