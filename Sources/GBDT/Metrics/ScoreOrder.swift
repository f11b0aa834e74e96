/// Rows by increasing score, equal scores in row order: a stable least-significant-byte radix
/// sort of the scores' bits, mapped so that their unsigned order is the numbers' order. The booster
/// orders its sample's scores every round for weighted AUC and average precision, where sorting
/// row indices through a comparison closure took a seventh of training on small data.
enum ScoreOrder {
    static func ascending(_ scores: [Double]) -> [Int] {
        let n = scores.count
        var keys = scores.map(orderedBits)
        var order = Array(0..<n)
        var nextKeys = keys
        var nextOrder = order
        var counts = [Int](repeating: 0, count: 256)
        for shift in stride(from: UInt64(0), to: 64, by: 8) {
            for b in counts.indices { counts[b] = 0 }
            for k in keys { counts[Int((k >> shift) & 0xFF)] += 1 }
            // Every key has the same byte here (the high bytes of scores of one sign and size):
            // the pass would move nothing.
            if counts.contains(n) { continue }
            var start = 0
            for b in counts.indices { (counts[b], start) = (start, start + counts[b]) }
            for i in 0..<n {
                let b = Int((keys[i] >> shift) & 0xFF)
                nextKeys[counts[b]] = keys[i]
                nextOrder[counts[b]] = order[i]
                counts[b] += 1
            }
            swap(&keys, &nextKeys)
            swap(&order, &nextOrder)
        }
        return order
    }

    /// The bits of `x` as an unsigned number in the order of the Doubles: negatives (sign bit
    /// set) inverted, so that larger magnitudes come first; positives above them.
    @inline(__always)
    static func orderedBits(_ x: Double) -> UInt64 {
        let b = x.bitPattern
        return b & (1 << 63) != 0 ? ~b : b | (1 << 63)
    }
}
