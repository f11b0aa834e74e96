import FsmlCore

/// A sliding window over any aggregator: a ring of the partials of the last n tiles
/// (n = `WindowRule.tileCount`), the newest being the tile of the latest event folded in. Which
/// tiles a value as of t reads is `WindowRule.coveredTiles`; the window merges their partials and
/// finalizes the result.
enum TiledWindow {
    static func initialize<A: PartialAlgebra>(_ a: A, _ slot: UnsafeMutableRawPointer, window: Micros, hop: Micros) {
        SlotCells.initialize(slot, count: WindowRule.tileCount(window: window, hop: hop), filledWith: a.empty)
    }

    @inline(__always)
    static func cell(_ tile: Int64, _ n: Int) -> Int {
        let m = Int(tile % Int64(n))
        return m < 0 ? m + n : m
    }

    /// Moves the ring's newest tile forward to `k` when `k` is newer, emptying the tiles it passes.
    /// Returns false when `k` is older than any tile a later read can cover.
    @inline(__always)
    static func advance<A: PartialAlgebra>(
        _ a: A, _ header: UnsafeMutablePointer<SlotHeader>, _ cells: UnsafeMutablePointer<A.Partial>, to k: Int64
    ) -> Bool {
        let n = header.pointee.count
        guard let head = header.pointee.newestTile else {
            header.pointee.newestTile = k
            return true
        }
        if k > head {
            if k - head >= Int64(n) {
                for c in 0..<n { cells[c] = a.empty }
            } else {
                var t = head + 1
                while t <= k {
                    cells[cell(t, n)] = a.empty
                    t += 1
                }
            }
            header.pointee.newestTile = k
            return true
        }
        return k > head - Int64(n)
    }

    @inline(__always)
    static func fold<A: PartialAlgebra>(_ a: A, _ event: Event, into buffer: SlotCells<A.Partial>, hop: Micros) {
        let k = WindowRule.tile(of: event.time, hop: hop)
        buffer.withCells { header, cells in
            guard advance(a, header, cells, to: k) else { return }
            a.update(&cells[cell(k, header.pointee.count)], with: event)
        }
    }

    /// The merged partials of the tiles the window covers as of t, finalized. Exact when every
    /// event folded in is before t (see `FeatureEngine.value`).
    static func value<A: Aggregator>(
        _ a: A, _ buffer: SlotCells<A.Partial>, window: Micros, hop: Micros, asOf t: Micros
    ) -> Double {
        buffer.withCells { header, cells in
            var total = a.empty
            guard let head = header.pointee.newestTile else { return a.finalize(total, asOf: t) }
            let n = header.pointee.count
            let covered = WindowRule.coveredTiles(asOf: t, window: window, hop: hop)
            let lo = max(covered.first, head - Int64(n) + 1)
            let hi = min(covered.last, head)
            if lo <= hi {
                for k in lo...hi { a.merge(&total, with: cells[cell(k, n)]) }
            }
            return a.finalize(total, asOf: t)
        }
    }

    /// Adds the tiles of `other` (the same slot, holding other events) to `buffer`, tile by tile.
    static func merge<A: PartialAlgebra>(_ a: A, _ other: SlotCells<A.Partial>, into buffer: SlotCells<A.Partial>) {
        other.withCells { otherHeader, otherCells in
            guard let otherHead = otherHeader.pointee.newestTile else { return }
            buffer.withCells { header, cells in
                let n = header.pointee.count
                _ = advance(a, header, cells, to: otherHead)
                let head = header.pointee.newestTile!
                var k = max(otherHead, head) - Int64(n) + 1
                while k <= otherHead {
                    if k > otherHead - Int64(n) { a.merge(&cells[cell(k, n)], with: otherCells[cell(k, n)]) }
                    k += 1
                }
            }
        }
    }

    /// 0 for a ring that has no tile yet; else 1 + (tile of the state's latest event − newest
    /// tile), then the tiles counted back from the newest: every tile when the aggregator asks for
    /// it, otherwise the number of tiles that are not empty and, per tile, its distance from the
    /// newest and its partial.
    static func encode<A: PartialAlgebra>(
        _ a: A, _ buffer: SlotCells<A.Partial>, hop: Micros, to writer: inout StateWriter
    ) {
        buffer.withCells { header, cells in
            guard let head = header.pointee.newestTile else { return writer.varint(0) }
            let n = header.pointee.count
            writer.varint(UInt64(WindowRule.tile(of: writer.lastTime, hop: hop) - head) + 1)
            if A.writesEveryTile {
                for d in 0..<n { a.encode(cells[cell(head - Int64(d), n)], to: &writer) }
                return
            }
            let empty = a.empty
            // Tiles back from the newest: the ring index steps down instead of a division per tile.
            let newest = cell(head, n)
            guard n < 0x80 else {
                var kept = 0
                for d in 0..<n where cells[(newest - d + n) % n] != empty { kept += 1 }
                writer.varint(UInt64(kept))
                for d in 0..<n where cells[(newest - d + n) % n] != empty {
                    writer.varint(UInt64(d))
                    a.encode(cells[(newest - d + n) % n], to: &writer)
                }
                return
            }
            // Fewer than 128 tiles: the count is one byte, written once the tiles are.
            let at = writer.count
            writer.byte(0)
            var kept: UInt8 = 0
            var c = newest
            for d in 0..<n {
                if cells[c] != empty {
                    kept += 1
                    writer.byte(UInt8(d))
                    a.encode(cells[c], to: &writer)
                }
                c = c == 0 ? n - 1 : c - 1
            }
            writer.patch(kept, at: at)
        }
    }

    /// Reads the tiles `encode` wrote into `slot`, an empty ring.
    static func decode<A: PartialAlgebra>(
        _ a: A, hop: Micros, from reader: inout StateReader, into slot: SlotCells<A.Partial>
    ) throws(StateDecodeError) {
        let marker = try reader.varint()
        if marker == 0 { return }
        guard marker < 1 << 40 else { throw StateDecodeError("corrupt state: tile out of range") }
        let head = WindowRule.tile(of: reader.lastTime, hop: hop) &- Int64(bitPattern: marker - 1)
        let n = slot.count
        slot.header.pointee.newestTile = head
        if A.writesEveryTile {
            for d in 0..<n { slot.cells[cell(head - Int64(d), n)] = try a.decode(from: &reader) }
            return
        }
        let count = try reader.varint()
        guard count <= UInt64(n) else { throw StateDecodeError("corrupt state: \(count) tiles of \(n)") }
        for _ in 0..<count {
            let d = try reader.varint()
            guard d < UInt64(n) else { throw StateDecodeError("corrupt state: tile \(d) of \(n)") }
            slot.cells[cell(head - Int64(d), n)] = try a.decode(from: &reader)
        }
    }
}
