import FsmlCore

/// Walker's alias method: draws index i with probability weight[i] / sum in O(1).
struct AliasTable: Sendable {
    private let probability: [Double]
    private let alias: [Int32]

    init(weights: [Double]) {
        let n = weights.count
        precondition(n > 0)
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(n) / total }
        var probability = [Double](repeating: 1, count: n)
        var alias = [Int32](repeating: 0, count: n)
        var small: [Int] = []
        var large: [Int] = []
        for (i, p) in scaled.enumerated() {
            if p < 1 { small.append(i) } else { large.append(i) }
        }
        while let s = small.popLast() {
            guard let l = large.popLast() else {
                probability[s] = 1
                continue
            }
            probability[s] = scaled[s]
            alias[s] = Int32(l)
            scaled[l] = scaled[l] + scaled[s] - 1
            if scaled[l] < 1 { small.append(l) } else { large.append(l) }
        }
        for l in large { probability[l] = 1 }
        self.probability = probability
        self.alias = alias
    }

    func draw(_ rng: inout SeededRandom) -> Int {
        let i = rng.below(probability.count)
        return rng.uniform() < probability[i] ? i : Int(alias[i])
    }
}
