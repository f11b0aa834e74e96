import FsmlCore

/// The head of one slot's storage inside an entity's state, before its partials.
public struct SlotHeader {
    /// Tiled windows: the index of the newest tile the ring holds; `Int64.min` before the first
    /// event (a tile index never comes near it: times are bounded far below).
    var newest: Int64
    /// How many partials follow.
    let count: Int

    /// The newest tile; nil before the first event.
    var newestTile: Int64? {
        get { newest == .min ? nil : newest }
        set { newest = newValue ?? .min }
    }
}

/// One slot's storage, whatever its aggregator: a header and the partials of its tiles (or its
/// one partial), at a fixed place inside the single allocation of an entity's state
/// (`StateStorage`). The window code reads and writes it through typed pointers; the place is
/// untyped 8-byte words, which this binds to the partial type once when it initializes them.
struct SlotCells<P: Sendable & Equatable> {
    let header: UnsafeMutablePointer<SlotHeader>
    let cells: UnsafeMutablePointer<P>

    /// The slot whose storage starts at `raw` (initialized before).
    @inline(__always)
    init(_ raw: UnsafeMutableRawPointer) {
        header = raw.assumingMemoryBound(to: SlotHeader.self)
        cells = (raw + MemoryLayout<SlotHeader>.stride).assumingMemoryBound(to: P.self)
    }

    @inline(__always)
    init(_ raw: UnsafeRawPointer) { self.init(UnsafeMutableRawPointer(mutating: raw)) }

    /// The 8-byte words a slot of `count` partials takes (partials aligned to at most a word).
    static func words(count: Int) -> Int {
        precondition(MemoryLayout<P>.alignment <= MemoryLayout<UInt64>.alignment)
        return (MemoryLayout<SlotHeader>.stride + count * MemoryLayout<P>.stride + 7) / 8
    }

    /// Makes `raw` a slot of `count` partials, each `value`.
    @discardableResult
    static func initialize(_ raw: UnsafeMutableRawPointer, count: Int, filledWith value: P) -> SlotCells<P> {
        raw.bindMemory(to: SlotHeader.self, capacity: 1).initialize(to: SlotHeader(newest: .min, count: count))
        (raw + MemoryLayout<SlotHeader>.stride).bindMemory(to: P.self, capacity: count)
            .initialize(repeating: value, count: count)
        return SlotCells(raw)
    }

    var count: Int { header.pointee.count }

    @inline(__always)
    func withCells<R>(_ body: (UnsafeMutablePointer<SlotHeader>, UnsafeMutablePointer<P>) throws -> R) rethrows -> R {
        try body(header, cells)
    }

    func deinitialize() { _ = cells.deinitialize(count: count) }

    /// Initializes `target`'s words as a copy of this slot.
    func copy(to target: UnsafeMutableRawPointer) {
        target.bindMemory(to: SlotHeader.self, capacity: 1).initialize(to: header.pointee)
        (target + MemoryLayout<SlotHeader>.stride).bindMemory(to: P.self, capacity: count)
            .initialize(from: cells, count: count)
    }

    func isEqual(to other: SlotCells<P>) -> Bool {
        header.pointee.newest == other.header.pointee.newest && count == other.count
            && (0..<count).allSatisfy { cells[$0] == other.cells[$0] }
    }
}
