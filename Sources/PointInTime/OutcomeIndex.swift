import FeatureCore
import FsmlCore

/// The outcome times of each example's match key, sorted, so that a label is a binary search: an
/// example at t is positive when one of them falls in (t, t + within] (`LabelRule`). Outcomes whose
/// key no example has are left out.
struct OutcomeIndex {
    /// Per example, its match key's id (-1 when the example has none).
    private let keyOfExample: [Int32]
    /// The times of key id i are `times[starts[i]..<starts[i + 1]]`, ascending.
    private var starts: [Int] = []
    private var times: [Micros] = []

    init(exampleKeys: [String?], outcomes: some Sequence<(key: String, time: Micros)>) {
        var table = EntityKeyTable()
        let keyOfExample = exampleKeys.map { key in key.map { table.id($0, hash: EntityKeyTable.hash($0)).id } ?? -1 }
        var matched: [(id: Int32, time: Micros)] = []
        for o in outcomes {
            if let id = table.find(o.key, hash: EntityKeyTable.hash(o.key)) { matched.append((id, o.time)) }
        }
        self.init(keyOfExample: keyOfExample, keys: table.keys.count, outcomes: matched)
    }

    /// With the match keys given ids already: per example its key's id (-1 for none), the number
    /// of ids, and the outcomes of those keys by id.
    init(keyOfExample: [Int32], keys: Int, outcomes: [(id: Int32, time: Micros)]) {
        self.keyOfExample = keyOfExample
        var matched = outcomes
        matched.sort { ($0.id, $0.time) < ($1.id, $1.time) }
        starts = [Int](repeating: 0, count: keys + 1)
        for m in matched { starts[Int(m.id) + 1] += 1 }
        for i in 1..<starts.count { starts[i] += starts[i - 1] }
        times = matched.map(\.time)
    }

    /// Whether an outcome of example `k`'s key falls in (after, upTo].
    func any(forExample k: Int, after t: Micros, upTo end: Micros) -> Bool {
        let id = keyOfExample[k]
        guard id >= 0 else { return false }
        var lo = starts[Int(id)]
        var hi = starts[Int(id) + 1]
        // The first time after t.
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo < starts[Int(id) + 1] && times[lo] <= end
    }
}
