/// Records grouped for a cluster's event-time-wins script: one script call may only name keys of
/// one slot (a cluster refuses CROSSSLOT calls), and the script is atomic per call, so each
/// group is the indexes of up to `limit` records of one slot, in their first-seen order.
enum SlotGroups {
    static func make(slots: [Int], limit: Int) -> [(slot: Int, indices: [Int])] {
        precondition(limit > 0)
        var groups: [(slot: Int, indices: [Int])] = []
        var open: [Int: Int] = [:]  // slot → index of its group still taking records
        for (i, slot) in slots.enumerated() {
            if let g = open[slot], groups[g].indices.count < limit {
                groups[g].indices.append(i)
            } else {
                open[slot] = groups.count
                groups.append((slot, [i]))
            }
        }
        return groups
    }
}
