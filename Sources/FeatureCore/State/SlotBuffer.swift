import FsmlCore

/// One slot's storage in one entity's state, whatever its aggregator: a header and the partials
/// of its tiles (or its one partial), in a single allocation. Entity states share buffers when
/// copied and copy one before changing it (`EntityState.mutableSlot`), so states behave as values;
/// that is also why a state can cross threads although a buffer is not `Sendable` by itself.
///
/// The concrete buffers are `Partials<P>`; this non-generic base class exists so that
/// `isKnownUniquelyReferenced` can see the stored reference itself (through a protocol
/// existential it would see a copy, and every fold would copy every buffer). Its elements are
/// untyped 8-byte words that `Partials` binds to its partial type.
public class SlotBuffer: ManagedBuffer<PartialsHeader, UInt64> {
    func copy() -> SlotBuffer { fatalError("SlotBuffer is abstract") }
    func isEqual(to other: SlotBuffer) -> Bool { fatalError("SlotBuffer is abstract") }
}

public struct PartialsHeader {
    /// Tiled windows: the index of the newest tile the ring holds; nil before the first event.
    var newestTile: Int64?
    let count: Int
}

/// `count` partials of one aggregator. Mutated only through `withCells`, by the window code,
/// and only while no other state shares it.
final class Partials<P: Sendable & Equatable>: SlotBuffer {
    /// The words that hold `count` partials (whose alignment is at most a word's).
    static func words(_ count: Int) -> Int {
        precondition(MemoryLayout<P>.alignment <= MemoryLayout<UInt64>.alignment)
        return (count * MemoryLayout<P>.stride + 7) / 8
    }

    static func make(count: Int, filledWith value: P) -> Partials<P> {
        let buffer = unsafeDowncast(
            create(minimumCapacity: words(count)) { _ in PartialsHeader(newestTile: nil, count: count) },
            to: Partials<P>.self)
        buffer.bind(count).initialize(repeating: value, count: count)
        return buffer
    }

    /// Binds the words to the partial type, once, before the partials are initialized.
    private func bind(_ count: Int) -> UnsafeMutablePointer<P> {
        withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0).bindMemory(to: P.self, capacity: count) }
    }

    deinit {
        withCells { header, cells in _ = cells.deinitialize(count: header.pointee.count) }
    }

    @inline(__always)
    func withCells<R>(_ body: (UnsafeMutablePointer<PartialsHeader>, UnsafeMutablePointer<P>) throws -> R) rethrows -> R
    {
        try withUnsafeMutablePointers { header, words in
            try body(header, UnsafeMutableRawPointer(words).assumingMemoryBound(to: P.self))
        }
    }

    override func copy() -> SlotBuffer {
        withCells { header, cells in
            let count = header.pointee.count
            let copy = unsafeDowncast(
                Self.create(minimumCapacity: Self.words(count)) { _ in header.pointee }, to: Partials<P>.self)
            copy.bind(count).initialize(from: cells, count: count)
            return copy
        }
    }

    override func isEqual(to other: SlotBuffer) -> Bool {
        guard let other = other as? Partials<P> else { return false }
        return withCells { h1, a in
            other.withCells { h2, b in
                h1.pointee.newestTile == h2.pointee.newestTile && h1.pointee.count == h2.pointee.count
                    && (0..<h1.pointee.count).allSatisfy { a[$0] == b[$0] }
            }
        }
    }
}
