import FsmlCore

/// The bin codes again, row by row (`pointer[i * stride + f]`), for building histograms. A row's
/// codes are padded to `words` whole 8-byte words, so that they can be copied a word at a time,
/// and followed by the row's (gradient, hessian) pair of the current tree, as two Floats at
/// `pairOffset`: a leaf's scattered row then costs one read of one or two cache lines, where a
/// separate array of pairs cost one more line per row. (Padding rows to a divisor of the 64-byte
/// line, so that no row straddles two, measured no faster: the two lines of a row are fetched
/// together.)
///
/// Below the root, a leaf's rows are scattered over the data. Column by column, each of its rows
/// costs one cache line per feature, and a leaf with more than one row in 64 reads every column
/// whole; row by row, one row's codes for every feature share one or two lines, so the reading
/// grows with the leaf's rows, not the data's.
final class RowMajorCodes: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
    let rows: Int
    let columns: Int
    let stride: Int
    let words: Int
    let pairOffset: Int

    init(_ data: BinnedData, threads: Int) {
        rows = data.rows
        columns = data.columns
        words = (columns + 7) / 8
        pairOffset = words * 8
        stride = pairOffset + 8
        pointer = LargeBuffer.allocate(bytes: rows * stride).assumingMemoryBound(to: UInt8.self)
        // Blocks of rows small enough that their rows stay in cache while every column is copied in.
        let block = 4096
        let (n, c, stride) = (rows, columns, stride)
        let io = UncheckedBox((UnsafePointer(data.storage.pointer), pointer))
        Parallel.forEach((n + block - 1) / block, threads: threads) { b in
            let (source, target) = io.value
            let rowRange = b * block..<min((b + 1) * block, n)
            for f in 0..<c {
                let column = source + f * n
                for i in rowRange { target[i &* stride &+ f] = column[i] }
            }
        }
    }

    /// Stores every row's pair (`pairs[i]` for row i) next to its codes.
    func storePairs(_ pairs: UnsafePointer<SIMD2<Float>>, team: WorkerTeam) {
        let block = 65_536
        team.forEach((rows + block - 1) / block) { b in
            storePairs(pairs, rows: b * block..<min((b + 1) * block, rows))
        }
    }

    /// Stores the pairs of `rows` next to their codes (the trainer does so block by block, while
    /// it writes the pairs, so that they are read back from cache).
    @inline(__always)
    func storePairs(_ pairs: UnsafePointer<SIMD2<Float>>, rows: Range<Int>) {
        let (stride, target) = (stride, UnsafeMutableRawPointer(pointer) + pairOffset)
        for i in rows { target.storeBytes(of: pairs[i], toByteOffset: i &* stride, as: SIMD2<Float>.self) }
    }

    deinit { LargeBuffer.deallocate(UnsafeMutableRawPointer(pointer), bytes: rows * stride) }
}
