import CKernels
import FsmlCore

/// Where each feature's bins sit in a leaf histogram: bins of feature f are at
/// offsets[f] ..< offsets[f] + bins[f]; each bin holds (gradient sum, hessian sum).
struct HistogramLayout {
    let offsets: [Int]
    let bins: [Int]
    let total: Int

    init(mappers: [BinMapper]) {
        var offsets: [Int] = []
        var total = 0
        for m in mappers {
            offsets.append(total)
            total += m.totalBins
        }
        self.offsets = offsets
        bins = mappers.map(\.totalBins)
        self.total = total
    }

}

/// Builds leaf histograms from bin codes and gradients.
///
/// Work is split by feature: each feature's histogram is summed by one thread, over the leaf's
/// rows in index order, so the sums (and the model) are the same whatever the number of threads.
/// Gradient and hessian travel together as one `SIMD2<Double>`, so adding a row to a bin is one
/// vector load, add and store. The pairs of a leaf's rows are first gathered into a contiguous
/// array (LightGBM's ordered gradients), so the inner loop reads one bin code and one pair per row.
final class HistogramBuilder {
    let layout: HistogramLayout
    let rows: Int
    let codes: UnsafePointer<UInt8>
    private let ordered: UnsafeMutablePointer<SIMD2<Double>>
    let threads: Int

    init(layout: HistogramLayout, rows: Int, codes: UnsafePointer<UInt8>, threads: Int) {
        self.layout = layout
        self.rows = rows
        self.codes = codes
        self.threads = threads
        ordered = .allocate(capacity: max(rows, 1))
    }

    deinit { ordered.deallocate() }

    /// Fills `out` with the histograms of the given features over rows indices[0..<count], or over
    /// rows 0..<count when `indices` is nil. `pairs[i]` is row i's (gradient, hessian).
    func build(
        indices: UnsafePointer<Int32>?, count: Int, pairs: UnsafePointer<SIMD2<Double>>, features: [Int],
        out: UnsafeMutablePointer<SIMD2<Double>>
    ) {
        let useThreads = count * features.count >= 200_000 ? threads : 1
        let gh: UnsafePointer<SIMD2<Double>>
        if let indices {
            let gather = UncheckedBox((ordered, pairs, indices))
            let block = 65_536
            Parallel.forEach((count + block - 1) / block, threads: useThreads) { b in
                let (ordered, pairs, indices) = gather.value
                for j in b * block..<min((b + 1) * block, count) { ordered[j] = pairs[Int(indices[j])] }
            }
            gh = UnsafePointer(ordered)
        } else {
            gh = pairs
        }
        // Each thread takes an even share of the features, in groups of up to eight: one pass over
        // the rows updates several histograms, sharing the index and gradient loads and overlapping
        // independent bin-code gathers.
        let share = (features.count + useThreads - 1) / max(useThreads, 1)
        var groups: [[Int]] = []
        for lo in stride(from: 0, to: features.count, by: max(share, 1)) {
            let part = Array(features[lo..<min(lo + share, features.count)])
            var k = 0
            while k < part.count {
                let size = part.count - k >= 4 ? 4 : 1
                groups.append(Array(part[k..<k + size]))
                k += size
            }
        }
        let work = UncheckedBox((indices, gh, out, codes, layout.offsets, layout.bins, rows))
        Parallel.forEach(groups.count, threads: useThreads) { k in
            let (indices, gh, out, codes, offsets, bins, rows) = work.value
            let group = groups[k]
            for f in group { (out + offsets[f]).update(repeating: .zero, count: bins[f]) }
            if group.count == 8 {
                HistogramBuilder.accumulate4(
                    columns: (
                        codes + group[0] * rows, codes + group[1] * rows, codes + group[2] * rows,
                        codes + group[3] * rows
                    ),
                    columns2: (
                        codes + group[4] * rows, codes + group[5] * rows, codes + group[6] * rows,
                        codes + group[7] * rows
                    ),
                    hists: (
                        out + offsets[group[0]], out + offsets[group[1]], out + offsets[group[2]],
                        out + offsets[group[3]]
                    ),
                    hists2: (
                        out + offsets[group[4]], out + offsets[group[5]], out + offsets[group[6]],
                        out + offsets[group[7]]
                    ),
                    indices: indices, count: count, gh: gh)
            } else if group.count == 4, let indices {
                let raw = UnsafeRawPointer(gh).assumingMemoryBound(to: Double.self)
                func doubles(_ p: UnsafeMutablePointer<SIMD2<Double>>) -> UnsafeMutablePointer<Double> {
                    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self)
                }
                fsml_histogram4_indexed(
                    codes + group[0] * rows, codes + group[1] * rows, codes + group[2] * rows, codes + group[3] * rows,
                    doubles(out + offsets[group[0]]), doubles(out + offsets[group[1]]),
                    doubles(out + offsets[group[2]]),
                    doubles(out + offsets[group[3]]), indices, Int64(count), raw)
            } else if group.count == 4 {
                HistogramBuilder.accumulate4(
                    columns: (
                        codes + group[0] * rows, codes + group[1] * rows, codes + group[2] * rows,
                        codes + group[3] * rows
                    ),
                    hists: (
                        out + offsets[group[0]], out + offsets[group[1]], out + offsets[group[2]],
                        out + offsets[group[3]]
                    ),
                    indices: indices, count: count, gh: gh)
            } else {
                for f in group {
                    HistogramBuilder.accumulate1(
                        column: codes + f * rows, hist: out + offsets[f], indices: indices, count: count, gh: gh)
                }
            }
        }
    }

    @inline(__always)
    static func accumulate4(
        columns c: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>),
        hists h: (
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>
        ),
        indices: UnsafePointer<Int32>?, count: Int, gh: UnsafePointer<SIMD2<Double>>
    ) {
        if let indices {
            for j in 0..<count {
                let row = Int(indices[j])
                let v = gh[j]
                let b0 = Int(c.0[row])
                let b1 = Int(c.1[row])
                let b2 = Int(c.2[row])
                let b3 = Int(c.3[row])
                h.0[b0] += v
                h.1[b1] += v
                h.2[b2] += v
                h.3[b3] += v
            }
        } else {
            for j in 0..<count {
                let v = gh[j]
                h.0[Int(c.0[j])] += v
                h.1[Int(c.1[j])] += v
                h.2[Int(c.2[j])] += v
                h.3[Int(c.3[j])] += v
            }
        }
    }

    /// Eight histograms in one pass.
    @inline(__always)
    static func accumulate4(
        columns c: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>),
        columns2 d: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>),
        hists h: (
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>
        ),
        hists2 k: (
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>
        ),
        indices: UnsafePointer<Int32>?, count: Int, gh: UnsafePointer<SIMD2<Double>>
    ) {
        if let indices {
            for j in 0..<count {
                let row = Int(indices[j])
                let v = gh[j]
                let b0 = Int(c.0[row])
                let b1 = Int(c.1[row])
                let b2 = Int(c.2[row])
                let b3 = Int(c.3[row])
                let b4 = Int(d.0[row])
                let b5 = Int(d.1[row])
                let b6 = Int(d.2[row])
                let b7 = Int(d.3[row])
                h.0[b0] += v
                h.1[b1] += v
                h.2[b2] += v
                h.3[b3] += v
                k.0[b4] += v
                k.1[b5] += v
                k.2[b6] += v
                k.3[b7] += v
            }
        } else {
            for j in 0..<count {
                let v = gh[j]
                h.0[Int(c.0[j])] += v
                h.1[Int(c.1[j])] += v
                h.2[Int(c.2[j])] += v
                h.3[Int(c.3[j])] += v
                k.0[Int(d.0[j])] += v
                k.1[Int(d.1[j])] += v
                k.2[Int(d.2[j])] += v
                k.3[Int(d.3[j])] += v
            }
        }
    }

    @inline(__always)
    static func accumulate1(
        column: UnsafePointer<UInt8>, hist: UnsafeMutablePointer<SIMD2<Double>>, indices: UnsafePointer<Int32>?,
        count: Int,
        gh: UnsafePointer<SIMD2<Double>>
    ) {
        if let indices {
            for j in 0..<count { hist[Int(column[Int(indices[j])])] += gh[j] }
        } else {
            for j in 0..<count { hist[Int(column[j])] += gh[j] }
        }
    }
}

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
    let threads: Int
    static let blockSize = 65_536

    init(capacity: Int, threads: Int) {
        self.capacity = capacity
        self.threads = threads
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
    /// values go left) to the front of its range, keeping their order; the rest become `newLeaf`.
    /// Returns the number that went left.
    func split(leaf: Int, newLeaf: Int, column: UnsafePointer<UInt8>, thresholdBin: UInt8, defaultLeft: Bool) -> Int {
        let start = begin[leaf]
        let n = count[leaf]
        let blocks = (n + Self.blockSize - 1) / Self.blockSize
        let box = UncheckedBox((indices, leftScratch, rightScratch, column))
        let missingLeft: UInt8 = defaultLeft ? 1 : 0
        let lefts = Parallel.map(blocks, threads: blocks > 1 ? threads : 1) { k -> Int in
            let (indices, left, right, column) = box.value
            let lo = start + k * Self.blockSize
            let hi = min(lo + Self.blockSize, start + n)
            var li = lo
            var ri = lo
            for j in lo..<hi {
                let row = indices[j]
                let b = column[Int(row)]
                // Branch-free: write the row to both sides and advance one of them.
                let goesLeft = b == 0 ? missingLeft : (b <= thresholdBin ? 1 : 0)
                left[li] = row
                right[ri] = row
                li += Int(goesLeft)
                ri += 1 - Int(goesLeft)
            }
            return li - lo
        }
        var at = start
        for k in 0..<blocks {
            let lo = start + k * Self.blockSize
            (indices + at).update(from: leftScratch + lo, count: lefts[k])
            at += lefts[k]
        }
        let totalLeft = at - start
        for k in 0..<blocks {
            let lo = start + k * Self.blockSize
            let size = min(Self.blockSize, start + n - lo)
            (indices + at).update(from: rightScratch + lo, count: size - lefts[k])
            at += size - lefts[k]
        }
        begin[newLeaf] = start + totalLeft
        count[newLeaf] = n - totalLeft
        count[leaf] = totalLeft
        return totalLeft
    }
}
