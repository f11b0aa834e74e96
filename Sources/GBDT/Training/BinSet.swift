/// A set of bin codes (0...255): the bins a categorical split sends left, while training.
public struct BinSet: Sendable, Equatable {
    var words: SIMD4<UInt64> = .zero

    public init() {}

    public init(_ bins: some Sequence<Int>) {
        for b in bins { insert(b) }
    }

    public mutating func insert(_ bin: Int) { words[bin >> 6] |= 1 << UInt64(bin & 63) }

    @inline(__always)
    public func contains(_ bin: UInt8) -> Bool { words[Int(bin >> 6)] & (1 << UInt64(bin & 63)) != 0 }

    public var members: [Int] { (0..<256).filter { contains(UInt8($0)) } }
}
