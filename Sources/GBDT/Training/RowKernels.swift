import CPrefetch

/// The histogram loops over row-major codes and a leaf's scattered rows.
///
/// Loading a row's codes and pair where they lie would stall on each cache miss, since the adds of
/// one row fill the processor's window. So rows are first copied by a tight loop that has many
/// misses in flight at once (the prefetching that Swift cannot ask for), and the adds read the
/// copies, four features at a time so that their histograms stay in the first-level cache.
enum RowKernels {
    /// Rows added at a time: a block's copies stay in the second-level cache while each group of
    /// features reads them (2048 measured a little faster than 1024).
    static let block = 2048

    /// Where row-major codes are and how a row's codes are laid out: row r's codes are the `words`
    /// words at `codes + r * stride` bytes, and its pair at `pairOffset` bytes from there; feature
    /// k of the histogram sits at byte positions[k] of a row, and its histogram at out + offsets[k].
    struct Rows {
        var codes: UnsafePointer<UInt8>
        var stride: Int
        var words: Int
        var pairOffset: Int
    }

    /// Rows ahead of the copy whose lines the gather asks for (16 and 32 measured alike, 8 slower).
    static let prefetchDistance = 16

    /// Copies the codes and pairs of rows indices[0..<count] to rowCopies (`words` words a row)
    /// and pairCopies, in a loop of few instructions (codes go 32 bytes at a time), so that the
    /// processor's window holds many rows at once and their cache misses overlap.
    ///
    /// The lines of the row `prefetchDistance` ahead are prefetched: the window alone holds some
    /// twenty rows, and their loads wait in it; prefetches leave it at once, so more lines are on
    /// their way (a quarter less time measured). Rows up to indices[available - 1] may be
    /// prefetched, past this call's own.
    @inline(__always)
    static func gather(
        _ rows: Rows, indices: UnsafePointer<Int32>, count: Int, available: Int,
        rowCopies: UnsafeMutablePointer<UInt64>, pairCopies: UnsafeMutablePointer<SIMD2<Double>>
    ) {
        let source = UnsafeRawPointer(rows.codes)
        let target = UnsafeMutableRawPointer(rowCopies)
        let (stride, bytes, pairOffset) = (rows.stride, rows.words &* 8, rows.pairOffset)
        let wide = bytes & ~31
        let ahead = min(count, max(0, available - prefetchDistance))
        for j in 0..<count {
            if j < ahead {
                // A row's first and last bytes: its one or two lines.
                let next = source + Int(indices[j &+ prefetchDistance]) &* stride
                fsml_prefetch(next)
                fsml_prefetch(next + (stride &- 1))
            }
            let from = source + Int(indices[j]) &* stride
            let to = target + j &* bytes
            var k = 0
            while k < wide {
                let chunk = from.loadUnaligned(fromByteOffset: k, as: SIMD4<UInt64>.self)
                to.storeBytes(of: chunk, toByteOffset: k, as: SIMD4<UInt64>.self)
                k &+= 32
            }
            while k < bytes {
                to.storeBytes(
                    of: from.loadUnaligned(fromByteOffset: k, as: UInt64.self), toByteOffset: k, as: UInt64.self)
                k &+= 8
            }
            pairCopies[j] = SIMD2<Double>(from.loadUnaligned(fromByteOffset: pairOffset, as: SIMD2<Float>.self))
        }
    }

    /// Rows whose lines the adds prefetch as they go, one row every fourth added row: the rows of
    /// the block gathered next. While the adds run, the memory system would otherwise idle, and
    /// the next gather then finds its lines in cache.
    struct Upcoming {
        var rows: Rows
        var indices: UnsafePointer<Int32>
        var count: Int
        var next = 0

        static var none: Upcoming {
            Upcoming(
                rows: Rows(codes: UnsafePointer(bitPattern: 1)!, stride: 0, words: 0, pairOffset: 0),
                indices: UnsafePointer(bitPattern: 4)!, count: 0)
        }

        @inline(__always)
        mutating func prefetchOne() {
            guard next < count else { return }
            let row = UnsafeRawPointer(rows.codes) + Int(indices[next]) &* rows.stride
            fsml_prefetch(row)
            fsml_prefetch(row + (rows.stride &- 1))
            next &+= 1
        }
    }

    /// Adds copied rows (`words` words each) into the histograms of the given features,
    /// prefetching `upcoming` rows meanwhile.
    @inline(__always)
    static func addCopies(
        rowCopies: UnsafePointer<UInt64>, words: Int, count: Int, pairCopies: UnsafePointer<SIMD2<Double>>,
        positions: UnsafePointer<Int32>, offsets: UnsafePointer<Int32>, features: Int,
        out: UnsafeMutablePointer<SIMD2<Double>>, upcoming: Upcoming = .none
    ) {
        var upcoming = upcoming
        let stride = words * 8
        var start = 0
        while start < count {
            let m = min(block, count - start)
            let rows = UnsafeRawPointer(rowCopies + start &* words).assumingMemoryBound(to: UInt8.self)
            let pairs = pairCopies + start
            var k = 0
            while k + 4 <= features {
                let p = Int(positions[k])
                if positions[k + 1] == positions[k] + 1 && positions[k + 2] == positions[k] + 2
                    && positions[k + 3] == positions[k] + 3
                {
                    add4Adjacent(
                        rows: rows + p, stride: stride, count: m, pairs: pairs,
                        hists: (
                            out + Int(offsets[k]), out + Int(offsets[k + 1]), out + Int(offsets[k + 2]),
                            out + Int(offsets[k + 3])
                        ), upcoming: &upcoming)
                    k += 4
                    continue
                }
                add4(
                    rows: rows, stride: stride, count: m, pairs: pairs,
                    positions: (Int(positions[k]), Int(positions[k + 1]), Int(positions[k + 2]), Int(positions[k + 3])),
                    hists: (
                        out + Int(offsets[k]), out + Int(offsets[k + 1]), out + Int(offsets[k + 2]),
                        out + Int(offsets[k + 3])
                    ))
                k += 4
            }
            while k < features {
                let (p, h) = (Int(positions[k]), out + Int(offsets[k]))
                for j in 0..<m { h[Int(rows[j &* stride &+ p])] += pairs[j] }
                k += 1
            }
            start &+= m
        }
    }

    /// Gathers and adds the rows indices[0..<count] block by block, on one thread.
    static func add(
        _ rows: Rows, indices: UnsafePointer<Int32>, count: Int, positions: UnsafePointer<Int32>,
        offsets: UnsafePointer<Int32>, features: Int,
        out: UnsafeMutablePointer<SIMD2<Double>>
    ) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: block * rows.words) { rowCopies in
            withUnsafeTemporaryAllocation(of: SIMD2<Double>.self, capacity: block) { pairCopies in
                let (rowCopies, pairCopies) = (rowCopies.baseAddress!, pairCopies.baseAddress!)
                var start = 0
                while start < count {
                    let m = min(block, count - start)
                    gather(
                        rows, indices: indices + start, count: m, available: count - start, rowCopies: rowCopies,
                        pairCopies: pairCopies)
                    let next = Upcoming(
                        rows: rows, indices: indices + start + m, count: min(block, count - start - m))
                    addCopies(
                        rowCopies: rowCopies, words: rows.words, count: m, pairCopies: pairCopies,
                        positions: positions, offsets: offsets, features: features, out: out, upcoming: next)
                    start &+= m
                }
            }
        }
    }

    @inline(__always)
    static func add4(
        rows: UnsafePointer<UInt8>, stride: Int, count: Int, pairs: UnsafePointer<SIMD2<Double>>,
        positions p: (Int, Int, Int, Int),
        hists h: (
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>
        )
    ) {
        for j in 0..<count {
            let row = rows + j &* stride
            let v = pairs[j]
            h.0[Int(row[p.0])] += v
            h.1[Int(row[p.1])] += v
            h.2[Int(row[p.2])] += v
            h.3[Int(row[p.3])] += v
        }
    }

    /// `add4` for four features whose codes are adjacent in a row (the usual case: every feature
    /// in use): one 4-byte load instead of four 1-byte loads, since the loop is bound by loads.
    @inline(__always)
    static func add4Adjacent(
        rows: UnsafePointer<UInt8>, stride: Int, count: Int, pairs: UnsafePointer<SIMD2<Double>>,
        hists h: (
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>
        ), upcoming: inout Upcoming
    ) {
        let base = UnsafeRawPointer(rows)
        for j in 0..<count {
            if j & 3 == 0 { upcoming.prefetchOne() }
            let codes = base.loadUnaligned(fromByteOffset: j &* stride, as: UInt32.self)
            let v = pairs[j]
            h.0[Int(codes & 0xFF)] += v
            h.1[Int((codes &>> 8) & 0xFF)] += v
            h.2[Int((codes &>> 16) & 0xFF)] += v
            h.3[Int(codes &>> 24)] += v
        }
    }
}
