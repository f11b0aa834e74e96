import FsmlCore

/// Every feature's values as bin codes, column by column (`codes[f * rows + i]`), which is how the
/// histogram builder reads them: one feature at a time over the rows of a leaf.
public struct BinnedData: Sendable {
    public let rows: Int
    public let mappers: [BinMapper]
    /// Bin codes, feature-major. Held in memory that never moves, so the trainer reads it by
    /// pointer without copying 1 byte per value again.
    let storage: CodeStorage

    public var codes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: storage.pointer, count: storage.count) }

    public var columns: Int { mappers.count }

    /// Builds bin mappers from a seeded sample of up to `sampleRows` rows, then bins every value.
    /// The features in `categorical` are binned by category.
    public static func build(
        _ matrix: DenseMatrix, maxBin: Int, sampleRows: Int, seed: UInt64, threads: Int, categorical: Set<Int> = []
    ) -> BinnedData {
        let n = matrix.rows
        var sample = Array(0..<n)
        if n > sampleRows {
            // A partial Fisher-Yates shuffle picks the sample; sorted again for memory order.
            var rng = SeededRandom(seed: seed, stream: 0xB1)
            for i in 0..<sampleRows { sample.swapAt(i, i + rng.below(n - i)) }
            sample = Array(sample[0..<sampleRows]).sorted()
        }
        let mappers = Parallel.map(matrix.columns, threads: threads) { f in
            categorical.contains(f)
                ? BinMapper(categoricalSample: sample.map { matrix[$0, f] }, maxBin: maxBin)
                : BinMapper(sample: sample.map { matrix[$0, f] }, maxBin: maxBin)
        }
        return BinnedData(matrix, mappers: mappers, threads: threads)
    }

    /// Bins `matrix` with existing mappers (validation data uses the training bins).
    public init(_ matrix: DenseMatrix, mappers: [BinMapper], threads: Int) {
        precondition(matrix.columns == mappers.count)
        rows = matrix.rows
        self.mappers = mappers
        let n = matrix.rows
        let c = matrix.columns
        let storage = CodeStorage(count: n * c)
        let box = UncheckedBox(storage.pointer)
        matrix.values.withUnsafeBufferPointer { values in
            let v = UncheckedBox(values)
            Parallel.forEach(c, threads: threads) { f in
                let mapper = mappers[f]
                for i in 0..<n { box.value[f * n + i] = mapper.bin(v.value[i * c + f]) }
            }
        }
        self.storage = storage
    }

    /// The bin code of row `i`, feature `f`.
    @inline(__always)
    public func code(row i: Int, feature f: Int) -> UInt8 { storage.pointer[f * rows + i] }
}

final class CodeStorage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = LargeBuffer.allocate(bytes: count).assumingMemoryBound(to: UInt8.self)
    }

    deinit { LargeBuffer.deallocate(UnsafeMutableRawPointer(pointer), bytes: count) }
}
