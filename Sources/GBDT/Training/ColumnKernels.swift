/// Histogram loops over column-major codes and every row in order (the root's histograms).
enum ColumnKernels {
    /// Four features in one pass: the pair load is shared and the four bin-code loads overlap.
    /// Codes are read eight rows at a time (one 8-byte load per column), since the loop is bound
    /// by loads; the eight rows are written out, so that each code comes out of its word by a
    /// constant shift (a loop over the rows shifted by a variable count, which costs more
    /// instructions: 14 % slower measured).
    @inline(__always)
    static func add4(
        columns c: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>),
        hists h: (
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>
        ),
        count: Int, pairs: UnsafePointer<SIMD2<Float>>
    ) {
        var j = 0
        while j &+ 8 <= count {
            let w0 = UnsafeRawPointer(c.0 + j).loadUnaligned(as: UInt64.self)
            let w1 = UnsafeRawPointer(c.1 + j).loadUnaligned(as: UInt64.self)
            let w2 = UnsafeRawPointer(c.2 + j).loadUnaligned(as: UInt64.self)
            let w3 = UnsafeRawPointer(c.3 + j).loadUnaligned(as: UInt64.self)
            @inline(__always) func add(_ s: Int, _ shift: UInt64) {
                let v = SIMD2<Double>(pairs[j &+ s])
                h.0[Int((w0 &>> shift) & 0xFF)] += v
                h.1[Int((w1 &>> shift) & 0xFF)] += v
                h.2[Int((w2 &>> shift) & 0xFF)] += v
                h.3[Int((w3 &>> shift) & 0xFF)] += v
            }
            add(0, 0)
            add(1, 8)
            add(2, 16)
            add(3, 24)
            add(4, 32)
            add(5, 40)
            add(6, 48)
            add(7, 56)
            j &+= 8
        }
        while j < count {
            let v = SIMD2<Double>(pairs[j])
            h.0[Int(c.0[j])] += v
            h.1[Int(c.1[j])] += v
            h.2[Int(c.2[j])] += v
            h.3[Int(c.3[j])] += v
            j &+= 1
        }
    }

    @inline(__always)
    static func add1(
        column: UnsafePointer<UInt8>, hist: UnsafeMutablePointer<SIMD2<Double>>, count: Int,
        pairs: UnsafePointer<SIMD2<Float>>
    ) {
        for j in 0..<count { hist[Int(column[j])] += SIMD2<Double>(pairs[j]) }
    }
}
