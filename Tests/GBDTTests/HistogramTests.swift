import FsmlCore
import Testing

@testable import GBDT

/// Histograms from the builder against sums written out row by row, over every row (the
/// column-major path) and over scattered rows (the row-major path, one thread or shared).
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

    @Test(arguments: 0..<6)
    func theBuilderSumsEveryBinAsTheOracleDoes(seed: Int) {
        var rng = SeededRandom(seed: UInt64(seed))
        // At the larger seeds, enough rows and features that a leaf is shared by threads and spans
        // several shared blocks.
        let large = seed >= 3
        let rows = large ? 2 * HistogramBuilder.sharedBlock + rng.below(20_000) : 500 + rng.below(3000)
        let columns = large ? 12 + rng.below(4) : 1 + rng.below(13)
        var values: [Float] = []
        for _ in 0..<rows * columns { values.append(rng.bernoulli(0.1) ? .nan : Float(rng.below(300))) }
        let matrix = DenseMatrix(rows: rows, columns: columns, values: values)
        let mappers = (0..<columns).map { f in
            BinMapper(sample: (0..<rows).map { values[$0 * columns + f] }, maxBin: 255)
        }
        let data = BinnedData(matrix, mappers: mappers, threads: 1)
        let pairs = (0..<rows).map { _ in SIMD2<Float>(Float(rng.normal()), Float(rng.uniform())) }
        let layout = HistogramLayout(mappers: mappers)
        let leaf = (0..<rows).filter { _ in rng.bernoulli(0.6) }.map { Int32($0) }
        let features = (0..<columns).filter { _ in large || rng.bernoulli(0.8) }
        for threads in [1, 3] {
            let builder = HistogramBuilder(
                layout: layout, columns: UnsafePointer(data.storage.pointer), rows: rows,
                rowMajor: RowMajorCodes(data, threads: threads), team: WorkerTeam(size: threads))
            let out = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: max(layout.total, 1))
            defer { out.deallocate() }
            pairs.withUnsafeBufferPointer { pairs in
                builder.rowMajor.storePairs(pairs.baseAddress!, team: builder.team)
                let all = Self.oracle(
                    data, rows: Array(0..<rows), pairs: Array(pairs), features: features, layout: layout)
                builder.build(indices: nil, count: rows, pairs: pairs.baseAddress!, features: features, out: out)
                for f in features {
                    #expect(Array(UnsafeBufferPointer(start: out + layout.offsets[f], count: layout.bins[f])) == all[f])
                }
                let some = Self.oracle(
                    data, rows: leaf.map { Int($0) }, pairs: Array(pairs), features: features, layout: layout)
                leaf.withUnsafeBufferPointer { leaf in
                    builder.build(
                        indices: leaf.baseAddress!, count: leaf.count, pairs: pairs.baseAddress!, features: features,
                        out: out)
                }
                for f in features {
                    #expect(
                        Array(UnsafeBufferPointer(start: out + layout.offsets[f], count: layout.bins[f])) == some[f])
                }
            }
        }
    }
}
