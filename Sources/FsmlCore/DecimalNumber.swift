import Foundation

/// Strict decimal number parsing (the JSON grammar of RFC 8259) over bytes, for event lines and
/// CSV files. Numbers with at most 15 significant digits and a small exponent are exact in one
/// multiplication or division (Clinger's fast path); the rest go through strtod.
public enum DecimalNumber {
    @usableFromInline
    static let powersOf10: [Double] = (0...22).map { pow(10.0, Double($0)) }

    /// Parses the number starting at `i`; on success returns the value and the index after it.
    @inlinable @inline(__always)
    public static func parse(_ p: UnsafeRawBufferPointer, at start: Int) -> (Double, Int)? {
        let n = p.count
        var i = start
        var negative = false
        if i < n && p[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < n else { return nil }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        if p[i] == UInt8(ascii: "0") {
            i += 1
        } else if p[i] >= UInt8(ascii: "1") && p[i] <= UInt8(ascii: "9") {
            while i < n, p[i] >= 48, p[i] <= 57 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(p[i] - 48)
                    if mantissa != 0 { digits += 1 }
                } else {
                    exponent += 1
                }
                i += 1
            }
        } else {
            return nil
        }
        if i < n && p[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < n, p[i] >= 48, p[i] <= 57 {
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(p[i] - 48)
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                }
                i += 1
            }
            guard i > fracStart else { return nil }
        }
        if i < n && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            var expNegative = false
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) {
                expNegative = p[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            var e = 0
            while i < n, p[i] >= 48, p[i] <= 57 {
                if e < 100_000 { e = e * 10 + Int(p[i] - 48) }
                i += 1
            }
            guard i > expStart else { return nil }
            exponent += expNegative ? -e : e
        }
        if digits <= 15 && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            if exponent >= 0 { value *= powersOf10[exponent] } else { value /= powersOf10[-exponent] }
            return (negative ? -value : value, i)
        }
        return (slowPath(p, start: start, end: i), i)
    }

    /// Exact decimal conversion by the C library on a NUL-terminated copy.
    @usableFromInline
    static func slowPath(_ p: UnsafeRawBufferPointer, start: Int, end: Int) -> Double {
        let length = end - start
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buf -> Double in
            for k in 0..<length { buf[k] = CChar(bitPattern: p[start + k]) }
            buf[length] = 0
            return strtod(buf.baseAddress!, nil)
        }
    }
}
