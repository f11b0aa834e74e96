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

/// Builds leaf histograms from bin codes and (gradient, hessian) pairs.
///
/// Every bin sums its rows in increasing row order, and work is shared out by feature, so the
/// histograms (and the model) are bit for bit the same whatever the number of threads.
///
/// Over all rows (the root), features go column by column in groups of four: the reads are
/// sequential and the four histograms stay in the first-level cache. Below the root a leaf's rows
/// are scattered, and the builder reads row-major codes instead: one row's codes for every feature
/// share a cache line or two, where column by column each row would cost a line per feature.
final class HistogramBuilder {
    let layout: HistogramLayout
    /// Column-major codes: feature f of row i at `columns[f * rows + i]`.
    let columns: UnsafePointer<UInt8>
    let rows: Int
    let rowMajor: RowMajorCodes
    /// The codes without each feature's most frequent bin, when the data is sparse.
    let sparse: SparseCodes?
    let team: WorkerTeam
    private var sharedStorage: (rows: UnsafeMutablePointer<UInt64>, pairs: UnsafeMutablePointer<SIMD2<Double>>)?
    private var chunkStorage: UnsafeMutablePointer<SIMD2<Double>>?

    init(layout: HistogramLayout, columns: UnsafePointer<UInt8>, rows: Int, rowMajor: RowMajorCodes, team: WorkerTeam) {
        self.layout = layout
        self.columns = columns
        self.rows = rows
        self.rowMajor = rowMajor
        self.team = team
        sparse = SparseCodes.make(columns: columns, rows: rows, layout: layout, parts: team.size)
    }

    deinit {
        if let (rows, pairs) = sharedStorage {
            rows.deallocate()
            pairs.deallocate()
        }
        chunkStorage?.deallocate()
    }

    /// Fills `out` with the histograms of the given features over rows indices[0..<count], or over
    /// rows 0..<count when `indices` is nil. `pairs[i]` is row i's (gradient, hessian); the same
    /// pairs must have been stored in `rowMajor` (`storePairs`), where scattered rows read them.
    func build(
        indices: UnsafePointer<Int32>?, count: Int, pairs: UnsafePointer<SIMD2<Float>>, features: [Int],
        out: UnsafeMutablePointer<SIMD2<Double>>
    ) {
        for f in features { (out + layout.offsets[f]).update(repeating: .zero, count: layout.bins[f]) }
        // Sparse codes add into every feature's bins (those of features not asked for are left
        // as they come out, never read), so they serve a leaf that looks at most features.
        if let sparse, 4 * features.count >= layout.bins.count {
            // Here the work is the leaf's entries, and the threads share it by feature with one
            // fork: worth it from some thousands of entries.
            let entries = count * sparse.entryCount / max(sparse.rows, 1)
            return buildSparse(
                sparse, indices: indices, count: count, pairs: pairs, features: features, out: out,
                threads: entries >= 8_192 ? team.size : 1)
        }
        // Sharing a leaf costs two forks of the team per block, a few microseconds: worth it from a
        // few thousand rows.
        let useThreads = count * features.count >= 100_000 ? team.size : 1
        if let indices {
            buildRowMajor(
                indices: indices, count: count, features: features, out: out, threads: useThreads)
        } else {
            buildColumns(count: count, pairs: pairs, features: features, out: out, threads: useThreads)
        }
    }

    private func buildColumns(
        count: Int, pairs: UnsafePointer<SIMD2<Float>>, features: [Int], out: UnsafeMutablePointer<SIMD2<Double>>,
        threads: Int
    ) {
        var groups: [[Int]] = []
        var k = 0
        while k < features.count {
            let size = min(4, features.count - k)
            groups.append(Array(features[k..<k + size]))
            k += size
        }
        let (columns, rows, offsets) = (columns, rows, layout.offsets)
        let body = { (g: Int) in
            let group = groups[g]
            if group.count == 4 {
                ColumnKernels.add4(
                    columns: (
                        columns + group[0] * rows, columns + group[1] * rows, columns + group[2] * rows,
                        columns + group[3] * rows
                    ),
                    hists: (
                        out + offsets[group[0]], out + offsets[group[1]], out + offsets[group[2]],
                        out + offsets[group[3]]
                    ),
                    count: count, pairs: pairs)
            } else {
                for f in group {
                    ColumnKernels.add1(column: columns + f * rows, hist: out + offsets[f], count: count, pairs: pairs)
                }
            }
        }
        if threads > 1 {
            team.forEach(groups.count, body)
        } else {
            for g in groups.indices { body(g) }
        }
    }

    /// One add per entry of the leaf's rows, then each feature's most frequent bin from the
    /// total. A large leaf is cut into chunks by its row count alone (`rowChunks`), added on the
    /// team and summed in chunk order, so the sums do not depend on the number of threads.
    private func buildSparse(
        _ sparse: SparseCodes, indices: UnsafePointer<Int32>?, count: Int, pairs: UnsafePointer<SIMD2<Float>>,
        features: [Int], out: UnsafeMutablePointer<SIMD2<Double>>, threads: Int
    ) {
        let layout = layout
        let chunks = Self.rowChunks(count)
        var total = SIMD2<Double>.zero
        if chunks == 1 && threads > 1 && sparse.parts > 1 {
            // Too few rows to be worth a histogram per chunk: the threads share the features.
            team.forEach(sparse.parts) { p in
                let sum = sparse.add(indices: indices, 0..<count, parts: p..<p + 1, pairs: pairs, out: out)
                if p == 0 { total = sum }
            }
        } else if chunks == 1 {
            total = sparse.add(indices: indices, 0..<count, pairs: pairs, out: out)
        } else {
            let extra = chunkHistograms
            let totals = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: chunks)
            defer { totals.deallocate() }
            let body = { (c: Int) in
                let target = c == 0 ? out : extra + (c - 1) * layout.total
                if c > 0 { target.update(repeating: .zero, count: layout.total) }
                let (lo, hi) = (c * count / chunks, (c + 1) * count / chunks)
                totals[c] = sparse.add(indices: indices, lo..<hi, pairs: pairs, out: target)
            }
            if threads > 1 { team.forEach(chunks, body) } else { (0..<chunks).forEach(body) }
            for c in 0..<chunks { total += totals[c] }
            for c in 1..<chunks {
                let part = extra + (c - 1) * layout.total
                for b in 0..<layout.total { out[b] += part[b] }
            }
        }
        for f in features { sparse.fillMostFrequent(f, total: total, layout: layout, out: out) }
    }

    /// Rows gathered at once when several threads share a leaf: all members copy part of a block,
    /// then each adds its features over all of it. Two blocks' copies (double buffered) stay in
    /// the second-level cache.
    static let sharedBlock = 8192

    private func buildRowMajor(
        indices: UnsafePointer<Int32>, count: Int, features: [Int], out: UnsafeMutablePointer<SIMD2<Double>>,
        threads: Int
    ) {
        let positions = features.map { Int32($0) }
        let offsets = features.map { Int32(layout.offsets[$0]) }
        let rows = RowKernels.Rows(
            codes: rowMajor.pointer, stride: rowMajor.stride, words: rowMajor.words, pairOffset: rowMajor.pairOffset)
        positions.withUnsafeBufferPointer { positions in
            offsets.withUnsafeBufferPointer { offsets in
                let (positions, offsets) = (positions.baseAddress!, offsets.baseAddress!)
                let chunks = Self.rowChunks(count)
                if chunks > 1 {
                    addInChunks(
                        rows, indices: indices, count: count, chunks: chunks, features: features,
                        positions: positions, offsets: offsets, out: out, threads: threads)
                    return
                }
                if threads <= 1 {
                    RowKernels.add(
                        rows, indices: indices, count: count, positions: positions, offsets: offsets,
                        features: features.count, out: out)
                    return
                }
                // Parts of whole groups of four features, so that every part adds four at a time.
                let members = team.size
                let groups = (features.count + 3) / 4
                let parts = min(members, groups)
                let copies = sharedCopies
                let block = Self.sharedBlock
                let blocks = (count + block - 1) / block
                let words = rows.words
                func gather(_ b: Int, member t: Int) {
                    let start = b * block
                    let m = min(block, count - start)
                    let (lo, hi) = (t * m / members, (t + 1) * m / members)
                    let buffer = b & 1
                    RowKernels.gather(
                        rows, indices: indices + start + lo, count: hi - lo, available: count - (start + lo),
                        rowCopies: copies.rows + (buffer * block + lo) * words,
                        pairCopies: copies.pairs + buffer * block + lo)
                }
                // Block b is added while block b + 1 is gathered: one fork and join per block, in
                // parts that any member may take.
                team.forEach(members) { t in gather(0, member: t) }
                for b in 0..<blocks {
                    team.forEach(members) { t in
                        if b + 1 < blocks { gather(b + 1, member: t) }
                        guard t < parts else { return }
                        let lo = min(t * groups / parts * 4, features.count)
                        let hi = min((t + 1) * groups / parts * 4, features.count)
                        let buffer = b & 1
                        RowKernels.addCopies(
                            rowCopies: copies.rows + buffer * block * words, words: words,
                            count: min(block, count - b * block), pairCopies: copies.pairs + buffer * block,
                            positions: positions + lo, offsets: offsets + lo, features: hi - lo, out: out)
                    }
                }
            }
        }
    }

    /// Rows of a chunk: a leaf of at least twice as many rows is cut into 2 or 4 chunks of
    /// consecutive rows, each added into a histogram of its own, and the chunks' histograms are
    /// then summed in chunk order. The cut depends on the row count alone, so sums are the same
    /// for any number of threads. Each member adds whole rows as one thread would, with no shared
    /// copies and one fork per chunk, where sharing a leaf by features forks once per block; the
    /// cost, zeroing and summing the extra histograms, is small beside the rows of such a leaf.
    static let chunkRows = 32_768

    static func rowChunks(_ count: Int) -> Int {
        count < 2 * chunkRows ? 1 : count < 4 * chunkRows ? 2 : 4
    }

    private func addInChunks(
        _ rows: RowKernels.Rows, indices: UnsafePointer<Int32>, count: Int, chunks: Int, features: [Int],
        positions: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>, out: UnsafeMutablePointer<SIMD2<Double>>,
        threads: Int
    ) {
        let extra = chunkHistograms
        let (layout, total) = (layout, layout.total)
        let body = { (c: Int) in
            let target = c == 0 ? out : extra + (c - 1) * total
            if c > 0 {
                for f in features { (target + layout.offsets[f]).update(repeating: .zero, count: layout.bins[f]) }
            }
            let (lo, hi) = (c * count / chunks, (c + 1) * count / chunks)
            RowKernels.add(
                rows, indices: indices + lo, count: hi - lo, positions: positions, offsets: offsets,
                features: features.count, out: target)
        }
        let sum = { (k: Int) in
            let (o, bins) = (layout.offsets[features[k]], layout.bins[features[k]])
            for c in 1..<chunks {
                let part = extra + (c - 1) * total + o
                for b in 0..<bins { out[o + b] += part[b] }
            }
        }
        if threads > 1 {
            team.forEach(chunks, body)
            team.forEach(features.count, sum)
        } else {
            for c in 0..<chunks { body(c) }
            for k in features.indices { sum(k) }
        }
    }

    /// Histograms for the chunks after the first (the first adds into the leaf's own), made on
    /// first use.
    private var chunkHistograms: UnsafeMutablePointer<SIMD2<Double>> {
        if let histograms = chunkStorage { return histograms }
        let histograms = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: 3 * max(layout.total, 1))
        chunkStorage = histograms
        return histograms
    }

    /// Copy buffers for two `sharedBlock`s of rows, made on first use.
    private var sharedCopies: (rows: UnsafeMutablePointer<UInt64>, pairs: UnsafeMutablePointer<SIMD2<Double>>) {
        if let copies = sharedStorage { return copies }
        let copies = (
            rows: UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * Self.sharedBlock * rowMajor.words),
            pairs: UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: 2 * Self.sharedBlock)
        )
        sharedStorage = copies
        return copies
    }
}
