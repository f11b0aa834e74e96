import FsmlCore

/// The bin codes of sparse data again, row by row, leaving out each feature's most frequent bin:
/// a row's entries are the histogram positions (the feature's offset plus the bin) of its other
/// codes. A histogram then costs one add per entry, and each feature's most frequent bin is the
/// leaf's total less its other bins (LightGBM's way with sparse features).
///
/// Made only for data where most codes are their feature's most frequent one (one-hot columns,
/// bag-of-words, ranking features that are mostly absent): on dense data the column and row
/// kernels, which add four features per pass from the first-level cache, are faster.
final class SparseCodes: @unchecked Sendable {
    /// Row r's entries are entries[rowStart[r] ..< rowStart[r + 1]], in feature order.
    let rowStart: UnsafeMutablePointer<Int>
    let entries: UnsafeMutablePointer<UInt32>
    let entryCount: Int
    let rows: Int
    /// Each feature's most frequent bin, left out of the entries.
    let mostFrequent: [Int]
    /// The features cut into `parts` runs holding about as many entries each, so that threads can
    /// share one leaf's rows by feature: part p of row r is entries[cut(r, p) ..< cut(r, p + 1)].
    /// Each bin then sums its rows in the same order whatever the number of threads.
    let parts: Int
    /// Row r's entries where parts 1 ..< parts begin, (parts − 1) a row.
    private let cuts: UnsafeMutablePointer<Int>?

    /// The share of codes that may differ from their feature's most frequent bin for the data to
    /// count as sparse: below it, one add per entry beats adding every code four features a pass.
    static let maximumDensity = 0.4

    /// Sparse codes for `columns` (feature-major, `rows` a column), or nil when the data is dense.
    static func make(
        columns: UnsafePointer<UInt8>, rows: Int, layout: HistogramLayout, parts: Int = 1
    )
        -> SparseCodes?
    {
        let features = layout.bins.count
        guard rows > 0 && features >= 4 else { return nil }
        var mostFrequent: [Int] = []
        var others = 0
        for f in 0..<features {
            var counts = [Int](repeating: 0, count: layout.bins[f])
            let column = columns + f * rows
            for i in 0..<rows { counts[Int(column[i])] += 1 }
            let top = counts.indices.max { (counts[$0], $1) < (counts[$1], $0) }!
            mostFrequent.append(top)
            others += rows - counts[top]
        }
        guard Double(others) <= maximumDensity * Double(rows * features) else { return nil }
        return SparseCodes(
            columns: columns, rows: rows, layout: layout, mostFrequent: mostFrequent, entries: others, parts: parts)
    }

    private init(
        columns: UnsafePointer<UInt8>, rows: Int, layout: HistogramLayout, mostFrequent: [Int], entries count: Int,
        parts: Int
    ) {
        self.rows = rows
        self.mostFrequent = mostFrequent
        entryCount = count
        self.parts = max(1, min(parts, mostFrequent.count))
        rowStart = .allocate(capacity: rows + 1)
        entries = .allocate(capacity: max(count, 1))
        // Counted per row first, then filled column by column, so that each row's entries come
        // in feature order.
        rowStart.initialize(repeating: 0, count: rows + 1)
        var perFeature = [Int](repeating: 0, count: mostFrequent.count)
        for f in mostFrequent.indices {
            let (column, top) = (columns + f * rows, UInt8(mostFrequent[f]))
            for i in 0..<rows where column[i] != top {
                rowStart[i + 1] += 1
                perFeature[f] += 1
            }
        }
        for i in 0..<rows { rowStart[i + 1] += rowStart[i] }
        var next = Array(UnsafeBufferPointer(start: rowStart, count: rows))
        // The features of part p are firsts[p] ..< firsts[p + 1]: a new part begins where the
        // running count of entries passes its share.
        var firsts = [0]
        var passed = 0
        for f in mostFrequent.indices {
            while firsts.count < self.parts && passed * self.parts >= firsts.count * count { firsts.append(f) }
            passed += perFeature[f]
        }
        while firsts.count <= self.parts { firsts.append(mostFrequent.count) }
        cuts = self.parts > 1 ? .allocate(capacity: rows * (self.parts - 1)) : nil
        for p in 0..<self.parts {
            if p > 0 { for i in 0..<rows { cuts![i * (self.parts - 1) + p - 1] = next[i] } }
            for f in firsts[p]..<firsts[p + 1] {
                let (column, top, offset) = (columns + f * rows, UInt8(mostFrequent[f]), UInt32(layout.offsets[f]))
                for i in 0..<rows where column[i] != top {
                    entries[next[i]] = offset + UInt32(column[i])
                    next[i] += 1
                }
            }
        }
    }

    deinit {
        rowStart.deallocate()
        entries.deallocate()
        cuts?.deallocate()
    }

    /// Where part p of row r's entries begins (p in 0 ... parts: part `parts` is the row's end).
    @inline(__always)
    func cut(_ r: Int, _ p: Int) -> Int {
        p == 0 ? rowStart[r] : p == parts ? rowStart[r &+ 1] : cuts![r &* (parts &- 1) &+ p &- 1]
    }

    /// Adds rows indices[j] for j in `range` (rows `range` when nil) into `out`, whose bins of
    /// every feature are zero: their entries of the parts `parts`, every part when nil. Returns
    /// the rows' total when the parts begin with the first, zero otherwise (so that threads
    /// sharing a leaf by part count it once); the most frequent bins stay zero
    /// (`fillMostFrequent` sets them).
    @inline(__always)
    func add(
        indices: UnsafePointer<Int32>?, _ range: Range<Int>, parts: Range<Int>? = nil,
        pairs: UnsafePointer<SIMD2<Float>>, out: UnsafeMutablePointer<SIMD2<Double>>
    ) -> SIMD2<Double> {
        let (first, end) = (parts?.lowerBound ?? 0, parts?.upperBound ?? self.parts)
        var total = SIMD2<Double>.zero
        for j in range {
            let r = indices.map { Int($0[j]) } ?? j
            let v = SIMD2<Double>(pairs[r])
            if first == 0 { total += v }
            for k in cut(r, first)..<cut(r, end) { out[Int(entries[k])] += v }
        }
        return total
    }

    /// Sets feature f's most frequent bin to what the leaf's total leaves after its other bins.
    @inline(__always)
    func fillMostFrequent(
        _ f: Int, total: SIMD2<Double>, layout: HistogramLayout, out: UnsafeMutablePointer<SIMD2<Double>>
    ) {
        let (h, top) = (out + layout.offsets[f], mostFrequent[f])
        var rest = total
        for b in 0..<layout.bins[f] where b != top { rest -= h[b] }
        h[top] = rest
    }
}
