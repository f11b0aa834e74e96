import Foundation

/// The partial of `approx_unique_count`: a HyperLogLog sketch of 2^p registers (Flajolet et al.
/// 2007), each the largest rank seen among the value hashes routed to it. Registers merge by
/// maximum, so the sketch does not depend on arrival order and merges across tiles exactly.
///
/// Kept sparse (sorted index/rank pairs) while few registers are set, dense (2^p bytes) after,
/// the form being a function of the registers alone so that equal sketches are equal values.
/// Standard error 1.04 / √(2^p): 1.6 % at the default p = 12.
public struct HyperLogLog: Sendable, Equatable {
    /// Sparse: index << 8 | rank, ascending by index. Unused once dense.
    var sparse: [UInt32] = []
    /// Dense: one rank per register; empty while sparse.
    var dense: [UInt8] = []

    static func registers(_ p: Int) -> Int { 1 << p }
    /// Past this many set registers the sketch goes dense (four bytes a sparse entry).
    static func sparseLimit(_ p: Int) -> Int { registers(p) / 4 }

    var isEmpty: Bool { sparse.isEmpty && dense.isEmpty }

    @inline(__always)
    mutating func add(hash h: UInt64, p: Int) {
        let index = Int(h >> UInt64(64 - p))
        let rest = h << UInt64(p)
        let rank = UInt8(min(rest.leadingZeroBitCount, 64 - p) + 1)
        set(index, rank, p: p)
    }

    mutating func set(_ index: Int, _ rank: UInt8, p: Int) {
        if !dense.isEmpty {
            if dense[index] < rank { dense[index] = rank }
            return
        }
        var lo = 0
        var hi = sparse.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Int(sparse[mid] >> 8) < index { lo = mid + 1 } else { hi = mid }
        }
        let entry = UInt32(index) << 8 | UInt32(rank)
        if lo < sparse.count && Int(sparse[lo] >> 8) == index {
            if UInt8(truncatingIfNeeded: sparse[lo]) < rank { sparse[lo] = entry }
            return
        }
        sparse.insert(entry, at: lo)
        if sparse.count > Self.sparseLimit(p) {
            dense = [UInt8](repeating: 0, count: Self.registers(p))
            for e in sparse { dense[Int(e >> 8)] = UInt8(truncatingIfNeeded: e) }
            sparse = []
        }
    }

    mutating func merge(_ other: HyperLogLog, p: Int) {
        if other.dense.isEmpty {
            for e in other.sparse { set(Int(e >> 8), UInt8(truncatingIfNeeded: e), p: p) }
            return
        }
        if dense.isEmpty {
            let mine = sparse
            self = other
            for e in mine { set(Int(e >> 8), UInt8(truncatingIfNeeded: e), p: p) }
            return
        }
        for i in dense.indices where dense[i] < other.dense[i] { dense[i] = other.dense[i] }
    }

    /// The estimate: the raw HyperLogLog mean, or linear counting (m·ln(m/V)) while it is at most
    /// 2.5·m and some registers are zero, where linear counting is the more accurate.
    func estimate(p: Int) -> Double {
        let m = Double(Self.registers(p))
        var inverse = 0.0
        var zeros = 0
        if dense.isEmpty {
            zeros = Self.registers(p) - sparse.count
            inverse = Double(zeros)
            for e in sparse { inverse += Self.inversePower(UInt8(truncatingIfNeeded: e)) }
        } else {
            for r in dense {
                if r == 0 { zeros += 1 }
                inverse += Self.inversePower(r)
            }
        }
        let alpha: Double
        switch p {
        case 4: alpha = 0.673
        case 5: alpha = 0.697
        case 6: alpha = 0.709
        default: alpha = 0.7213 / (1 + 1.079 / m)
        }
        let raw = alpha * m * m / inverse
        if raw <= 2.5 * m && zeros > 0 { return (m * log(m / Double(zeros))).rounded() }
        return raw.rounded()
    }

    /// 2^−rank, exactly.
    @inline(__always)
    static func inversePower(_ rank: UInt8) -> Double { Double(sign: .plus, exponent: -Int(rank), significand: 1) }

    /// 0 then the sparse entries (count, then index deltas and ranks), or 1 then every register.
    func encode(to writer: inout StateWriter) {
        if dense.isEmpty {
            writer.byte(0)
            writer.varint(UInt64(sparse.count))
            var previous = 0
            for e in sparse {
                writer.varint(UInt64(Int(e >> 8) - previous))
                writer.byte(UInt8(truncatingIfNeeded: e))
                previous = Int(e >> 8)
            }
        } else {
            writer.byte(1)
            for r in dense { writer.byte(r) }
        }
    }

    static func decode(from reader: inout StateReader, p: Int) throws(StateDecodeError) -> HyperLogLog {
        var out = HyperLogLog()
        let m = registers(p)
        switch try reader.byte() {
        case 0:
            let count = try reader.count(ofItemsOfSize: 2)
            guard count <= sparseLimit(p) else { throw StateDecodeError("corrupt state: \(count) sparse registers") }
            var index = 0
            for i in 0..<count {
                let delta = try reader.varint()
                guard delta < UInt64(m), (i == 0 || delta > 0) else {
                    throw StateDecodeError("corrupt state: register order")
                }
                index += Int(delta)
                let rank = try reader.byte()
                guard index < m, rank > 0, Int(rank) <= 65 - p else {
                    throw StateDecodeError("corrupt state: register")
                }
                out.sparse.append(UInt32(index) << 8 | UInt32(rank))
            }
        case 1:
            guard reader.remaining >= m else { throw StateDecodeError("truncated state") }
            out.dense.reserveCapacity(m)
            for _ in 0..<m {
                let rank = try reader.byte()
                guard Int(rank) <= 65 - p else { throw StateDecodeError("corrupt state: register") }
                out.dense.append(rank)
            }
            guard out.dense.lazy.filter({ $0 != 0 }).count > sparseLimit(p) else {
                throw StateDecodeError("corrupt state: a dense sketch with few registers")
            }
        case let b:
            throw StateDecodeError("corrupt state: sketch form \(b)")
        }
        return out
    }
}
