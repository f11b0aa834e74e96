import FsmlCore

/// The rows of every leaf as one array of row indexes: leaf l owns indices[begin[l] ..< begin[l] + count[l]],
/// in increasing row order. Splitting a leaf partitions its range in place, stably: fixed-size
/// blocks are split in parallel into two scratch arrays, then copied back block by block
/// (LightGBM's DataPartition).
final class DataPartition {
    let capacity: Int
    let indices: UnsafeMutablePointer<Int32>
    private let leftScratch: UnsafeMutablePointer<Int32>
    private let rightScratch: UnsafeMutablePointer<Int32>
    var begin: [Int] = []
    var count: [Int] = []
    let team: WorkerTeam
    /// Rows split per block: small enough that leaves of a few tens of thousands of rows are
    /// shared by threads. The blocks only bound work; the result is the same for any size.
    static let blockSize = 16_384

    init(capacity: Int, team: WorkerTeam) {
        self.capacity = capacity
        self.team = team
        indices = .allocate(capacity: max(capacity, 1))
        leftScratch = .allocate(capacity: max(capacity, 1))
        rightScratch = .allocate(capacity: max(capacity, 1))
    }

    deinit {
        indices.deallocate()
        leftScratch.deallocate()
        rightScratch.deallocate()
    }

    /// Starts a tree with every row in `rows` (or all rows) in leaf 0.
    func reset(rows: [Int32]?, allRows: Int, maxLeaves: Int) {
        let n = rows?.count ?? allRows
        if let rows {
            rows.withUnsafeBufferPointer { indices.update(from: $0.baseAddress!, count: n) }
        } else {
            for i in 0..<n { indices[i] = Int32(i) }
        }
        begin = [Int](repeating: 0, count: maxLeaves)
        count = [Int](repeating: 0, count: maxLeaves)
        count[0] = n
    }

    /// Moves the rows of `leaf` that go left (bin code in 1...thresholdBin, or 0 when missing
    /// values go left; for a categorical split, a bin code in `leftBins`) to the front of its
    /// range, keeping their order; the rest become `newLeaf`. Returns the number that went left.
    func split(
        leaf: Int, newLeaf: Int, column: UnsafePointer<UInt8>, thresholdBin: UInt8, defaultLeft: Bool,
        leftBins: BinSet? = nil
    ) -> Int {
        let start = begin[leaf]
        let n = count[leaf]
        let blocks = (n + Self.blockSize - 1) / Self.blockSize
        let (indices, left, right) = (indices, leftScratch, rightScratch)
        let missingLeft: UInt8 = defaultLeft ? 1 : 0
        // A categorical split routes by a table of the 256 codes.
        let table: [UInt8] = leftBins.map { set in (0..<256).map { set.contains(UInt8($0)) ? 1 : 0 } } ?? []
        let lefts = UnsafeMutablePointer<Int>.allocate(capacity: blocks)
        defer { lefts.deallocate() }
        team.forEach(blocks) { k in
            let lo = start + k * Self.blockSize
            let hi = min(lo + Self.blockSize, start + n)
            var li = lo
            var ri = lo
            if table.isEmpty {
                for j in lo..<hi {
                    let row = indices[j]
                    let b = column[Int(row)]
                    // Branch-free: write the row to both sides and advance one of them.
                    let goesLeft = b == 0 ? missingLeft : (b <= thresholdBin ? 1 : 0)
                    left[li] = row
                    right[ri] = row
                    li &+= Int(goesLeft)
                    ri &+= 1 &- Int(goesLeft)
                }
            } else {
                table.withUnsafeBufferPointer { table in
                    for j in lo..<hi {
                        let row = indices[j]
                        let goesLeft = table[Int(column[Int(row)])]
                        left[li] = row
                        right[ri] = row
                        li &+= Int(goesLeft)
                        ri &+= 1 &- Int(goesLeft)
                    }
                }
            }
            lefts[k] = li - lo
        }
        // Where each block's left and right rows go back: all lefts in block order, then all rights.
        var totalLeft = 0
        for k in 0..<blocks { totalLeft += lefts[k] }
        let leftAt = UnsafeMutablePointer<Int>.allocate(capacity: 2 * blocks)
        defer { leftAt.deallocate() }
        let rightAt = leftAt + blocks
        var (l, r) = (start, start + totalLeft)
        for k in 0..<blocks {
            let size = min(Self.blockSize, start + n - (start + k * Self.blockSize))
            (leftAt[k], rightAt[k]) = (l, r)
            l += lefts[k]
            r += size - lefts[k]
        }
        team.forEach(blocks) { k in
            let lo = start + k * Self.blockSize
            let size = min(Self.blockSize, start + n - lo)
            (indices + leftAt[k]).update(from: left + lo, count: lefts[k])
            (indices + rightAt[k]).update(from: right + lo, count: size - lefts[k])
        }
        begin[newLeaf] = start + totalLeft
        count[newLeaf] = n - totalLeft
        count[leaf] = totalLeft
        return totalLeft
    }
}
