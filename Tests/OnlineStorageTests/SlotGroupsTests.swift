import Testing

@testable import OnlineStorage

@Suite struct SlotGroupsTests {
    @Test func recordsOfOneSlotShareACallUpToTheLimit() {
        let groups = SlotGroups.make(slots: [5, 7, 5, 5, 9, 7, 5], limit: 2)
        #expect(groups.map(\.slot) == [5, 7, 5, 9])
        #expect(groups.map(\.indices) == [[0, 2], [1, 5], [3, 6], [4]])
    }

    @Test func everyIndexOnceAndEveryGroupOneSlot() {
        var rng = SystemRandomNumberGenerator()
        let slots = (0..<2_000).map { _ in Int.random(in: 0..<40, using: &rng) }
        let groups = SlotGroups.make(slots: slots, limit: 7)
        #expect(groups.flatMap(\.indices).sorted() == Array(slots.indices))
        for g in groups {
            #expect(g.indices.count <= 7 && g.indices.allSatisfy { slots[$0] == g.slot })
        }
    }
}
