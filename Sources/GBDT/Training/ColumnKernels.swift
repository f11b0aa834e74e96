/// Histogram loops over column-major codes and every row in order (the root's histograms).
enum ColumnKernels {
    /// Four features in one pass: the pair load is shared and the four bin-code loads overlap.
    @inline(__always)
    static func add4(
        columns c: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>),
        hists h: (
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>,
            UnsafeMutablePointer<SIMD2<Double>>, UnsafeMutablePointer<SIMD2<Double>>
        ),
        count: Int, pairs: UnsafePointer<SIMD2<Float>>
    ) {
        for j in 0..<count {
            let v = SIMD2<Double>(pairs[j])
            h.0[Int(c.0[j])] += v
            h.1[Int(c.1[j])] += v
            h.2[Int(c.2[j])] += v
            h.3[Int(c.3[j])] += v
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
