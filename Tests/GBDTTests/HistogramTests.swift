import FsmlCore
import Testing

@testable import GBDT

/// Histograms from the builder against sums written out row by row, over every row (the
/// column-major path) and over scattered rows (the row-major path: one thread, shared by features,
/// or cut into chunks of rows).
///
/// Gradients and hessians are multiples of 1/1024 of a few bits, whose sums in Double are exact
/// in any order, so the builder must equal the oracle exactly however it orders its additions;
/// with arbitrary pairs it must equal itself across thread counts.
@Suite struct HistogramTests {
    /// The histogram of each feature, summed over `rows` in the order given.
    static func oracle(
        _ data: BinnedData, rows: [Int], pairs: [SIMD2<Float>], features: [Int], layout: HistogramLayout
    ) -> [Int: [SIMD2<Double>]] {
        var result: [Int: [SIMD2<Double>]] = [:]
        for f in features {
            var hist = [SIMD2<Double>](repeating: .zero, count: layout.bins[f])
            for r in rows { hist[Int(data.code(row: r, feature: f))] += SIMD2<Double>(pairs[r]) }
            result[f] = hist
        }
        return result
    }

    /// The data of one case: small (seeds 0–2), a leaf shared by threads over several shared
    /// blocks (3–5), a leaf cut into two chunks (6) and into four (7); then sparse data, mostly
    /// zeros, through the sparse codes: with most of its features (8), with all of them (9,
    /// threads sharing the leaf by feature) and in two chunks (10); and with a few of them (11,
    /// the dense kernels).
    struct Case {
        let data: BinnedData
        let layout: HistogramLayout
        let leaf: [Int32]
        let features: [Int]

        init(seed: Int, rng: inout SeededRandom) {
            let large = seed >= 3
            let sparse = seed >= 8
            let rows =
                switch seed {
                case 6, 10: 3 * HistogramBuilder.chunkRows
                case 7: 5 * HistogramBuilder.chunkRows
                case 3...5, 9: 2 * HistogramBuilder.sharedBlock + rng.below(20_000)
                default: 500 + rng.below(3000)
                }
            let columns =
                sparse
                ? 8 + rng.below(30) : seed >= 6 ? 5 + rng.below(3) : large ? 12 + rng.below(4) : 1 + rng.below(13)
            var values: [Float] = []
            for _ in 0..<rows * columns {
                if sparse {
                    values.append(rng.bernoulli(0.8) ? 0 : rng.bernoulli(0.1) ? .nan : Float(rng.below(100)))
                } else {
                    values.append(rng.bernoulli(0.1) ? .nan : Float(rng.below(300)))
                }
            }
            let matrix = DenseMatrix(rows: rows, columns: columns, values: values)
            let mappers = (0..<columns).map { f in
                BinMapper(sample: (0..<rows).map { values[$0 * columns + f] }, maxBin: 255)
            }
            data = BinnedData(matrix, mappers: mappers, threads: 1)
            layout = HistogramLayout(mappers: mappers)
            let kept = seed >= 6 ? 0.95 : 0.6
            leaf = (0..<rows).filter { _ in rng.bernoulli(kept) }.map { Int32($0) }
            features =
                seed == 11
                ? Array(0..<columns / 5) : (0..<columns).filter { _ in (large && seed != 8) || rng.bernoulli(0.8) }
        }
    }

    /// Builds the histograms of every row and of `c.leaf` with `threads` threads.
    static func build(
        _ c: Case, pairs: [SIMD2<Float>], threads: Int
    ) -> (all: [Int: [SIMD2<Double>]], leaf: [Int: [SIMD2<Double>]]) {
        let builder = HistogramBuilder(
            layout: c.layout, columns: UnsafePointer(c.data.storage.pointer), rows: c.data.rows,
            rowMajor: RowMajorCodes(c.data, threads: threads), team: WorkerTeam(size: threads))
        let out = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: max(c.layout.total, 1))
        defer { out.deallocate() }
        func histograms() -> [Int: [SIMD2<Double>]] {
            var result: [Int: [SIMD2<Double>]] = [:]
            for f in c.features {
                result[f] = Array(UnsafeBufferPointer(start: out + c.layout.offsets[f], count: c.layout.bins[f]))
            }
            return result
        }
        return pairs.withUnsafeBufferPointer { pairs in
            builder.rowMajor.storePairs(pairs.baseAddress!, team: builder.team)
            builder.build(indices: nil, count: c.data.rows, pairs: pairs.baseAddress!, features: c.features, out: out)
            let all = histograms()
            c.leaf.withUnsafeBufferPointer { leaf in
                builder.build(
                    indices: leaf.baseAddress!, count: leaf.count, pairs: pairs.baseAddress!, features: c.features,
                    out: out)
            }
            return (all, histograms())
        }
    }

    @Test(arguments: 0..<12)
    func theBuilderSumsEveryBinAsTheOracleDoes(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        let c = Case(seed: seed, rng: &rng)
        if seed == 6 || seed == 10 { #expect(HistogramBuilder.rowChunks(c.leaf.count) == 2) }
        if seed == 7 { #expect(HistogramBuilder.rowChunks(c.leaf.count) == 4) }
        // Sparse codes exist for the sparse data alone, and serve a tree that uses every feature.
        let sparse = SparseCodes.make(
            columns: UnsafePointer(c.data.storage.pointer), rows: c.data.rows, layout: c.layout)
        #expect((sparse != nil) == (seed >= 8))
        // Threads share a small leaf of sparse data by feature: every part holds some entries.
        if seed == 9,
            let parts = SparseCodes.make(
                columns: UnsafePointer(c.data.storage.pointer), rows: c.data.rows, layout: c.layout, parts: 3)
        {
            #expect(parts.parts == 3 && HistogramBuilder.rowChunks(c.leaf.count) == 1)
            #expect(
                (0..<3).allSatisfy { p in (0..<c.data.rows).contains { parts.cut($0, p) < parts.cut($0, p + 1) } })
        }
        if seed == 9 || seed == 10 { #expect(c.features.count == c.layout.bins.count) }
        if seed == 8 { #expect(c.features.count < c.layout.bins.count && 4 * c.features.count >= c.layout.bins.count) }
        if seed == 11 { #expect(4 * c.features.count < c.layout.bins.count) }
        let rows = c.data.rows
        let exact = (0..<rows).map { _ in
            SIMD2<Float>(Float(rng.below(2001) - 1000) / 1024, Float(1 + rng.below(1023)) / 1024)
        }
        let all = Self.oracle(c.data, rows: Array(0..<rows), pairs: exact, features: c.features, layout: c.layout)
        let some = Self.oracle(
            c.data, rows: c.leaf.map { Int($0) }, pairs: exact, features: c.features, layout: c.layout)
        for threads in [1, 3] {
            let built = Self.build(c, pairs: exact, threads: threads)
            #expect(built.all == all)
            #expect(built.leaf == some)
        }
    }

    @Test(arguments: [3, 6, 7, 8, 9, 10])
    func histogramsAreTheSameBitForBitAtAnyNumberOfThreads(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        let c = Case(seed: seed, rng: &rng)
        let pairs = (0..<c.data.rows).map { _ in SIMD2<Float>(Float(rng.normal()), Float(rng.uniform())) }
        let one = Self.build(c, pairs: pairs, threads: 1)
        let three = Self.build(c, pairs: pairs, threads: 3)
        #expect(one.all == three.all)
        #expect(one.leaf == three.leaf)
    }
}
