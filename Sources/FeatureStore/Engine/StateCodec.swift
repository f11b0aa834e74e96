import FsmlCore

/// Entity state as compact, versioned bytes: what the online stores hold and the server decodes.
///
/// Layout (version 1): the version byte; the entity plan's 32-bit fingerprint (little endian);
/// the latest event time (zigzag varint); then each slot in plan order:
/// - sliding count/sum: 0 when it has no tile, else 1 + (tile of the latest event − head) as a
///   varint, the number of non-zero tiles, and per tile its distance from the head (varint) and its
///   value (zigzag varint);
/// - sliding distinct: the head as above, then per tile the number of hashes and the hashes
///   (8 bytes each, ascending);
/// - session count/sum: the value (zigzag varint); session distinct: count and hashes;
/// - first/last: a presence byte, then time − latest (zigzag), tie-break (8 bytes), value (8 bytes);
/// - span: a presence byte, then earliest − latest and latest − latest-matching (zigzag).
/// Sets are written sorted, so equal states give equal bytes.
public enum StateCodec {
    public static let version: UInt8 = 1

    public struct DecodeError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public static func encode(_ state: EntityState, layout: EngineLayout, entity: Int) -> [UInt8] {
        let plan = layout.entities[entity]
        var out: [UInt8] = []
        out.reserveCapacity(32 + plan.slabSize * 2)
        out.append(version)
        for shift in stride(from: 0, to: 32, by: 8) {
            out.append(UInt8(truncatingIfNeeded: plan.fingerprint >> UInt32(shift)))
        }
        putZigzag(state.lastTime, &out)
        for slot in plan.slots {
            let o = slot.slabOffset
            switch (slot.kind, slot.window) {
            case (.count, .sliding(_, let hop)), (.sum, .sliding(_, let hop)), (.distinct, .sliding(_, let hop)):
                let head = state.slab[o]
                if head == .min {
                    putVarint(0, &out)
                    continue
                }
                let n = slot.tiles
                putVarint(UInt64(WindowRule.tile(of: state.lastTime, hop: hop) - head) + 1, &out)
                if case .distinct = slot.kind {
                    for d in 0..<n {
                        let set = state.sets[slot.setOffset + EngineLayout.cell(head - Int64(d), n)]
                        putVarint(UInt64(set.count), &out)
                        for h in set.sorted() { putFixed64(h, &out) }
                    }
                } else {
                    var nonZero: [(Int, Int64)] = []
                    for d in 0..<n {
                        let v = state.slab[o + 1 + EngineLayout.cell(head - Int64(d), n)]
                        if v != 0 { nonZero.append((d, v)) }
                    }
                    putVarint(UInt64(nonZero.count), &out)
                    for (d, v) in nonZero {
                        putVarint(UInt64(d), &out)
                        putZigzag(v, &out)
                    }
                }
            case (.count, .session), (.sum, .session):
                putZigzag(state.slab[o], &out)
            case (.distinct, .session):
                let set = state.sets[slot.setOffset]
                putVarint(UInt64(set.count), &out)
                for h in set.sorted() { putFixed64(h, &out) }
            case (.first, _), (.last, _):
                let empty = state.slab[o] == (isFirst(slot) ? .max : .min)
                out.append(empty ? 0 : 1)
                if !empty {
                    putZigzag(state.lastTime &- state.slab[o], &out)
                    putFixed64(UInt64(bitPattern: state.slab[o + 1]), &out)
                    putFixed64(UInt64(bitPattern: state.slab[o + 2]), &out)
                }
            case (.span, _):
                let empty = state.slab[o] == .max
                out.append(empty ? 0 : 1)
                if !empty {
                    putZigzag(state.lastTime &- state.slab[o], &out)
                    putZigzag(state.lastTime &- state.slab[o + 1], &out)
                }
            }
        }
        return out
    }

    private static func isFirst(_ slot: AggregateSlot) -> Bool {
        if case .first = slot.kind { return true }
        return false
    }

    public static func decode(
        _ bytes: UnsafeRawBufferPointer, layout: EngineLayout, entity: Int
    ) throws(DecodeError) -> EntityState {
        let plan = layout.entities[entity]
        var r = Reader(p: bytes)
        guard let v = r.byte() else { throw DecodeError(description: "empty state") }
        guard v == version else { throw DecodeError(description: "state version \(v) is not \(version)") }
        var fp: UInt32 = 0
        for shift in stride(from: 0, to: 32, by: 8) {
            guard let b = r.byte() else { throw DecodeError(description: "truncated state") }
            fp |= UInt32(b) << UInt32(shift)
        }
        guard fp == plan.fingerprint else {
            throw DecodeError(
                description:
                    "state was written under other feature definitions (fingerprint \(fp), expected \(plan.fingerprint))"
            )
        }
        var state = layout.emptyState(entity: entity)
        state.lastTime = try r.zigzag()
        // Bounds that keep every later tile and time computation far from overflow.
        guard state.lastTime.magnitude < 1 << 60 else {
            throw DecodeError(description: "corrupt state: time out of range")
        }
        for slot in plan.slots {
            let o = slot.slabOffset
            switch (slot.kind, slot.window) {
            case (.count, .sliding(_, let hop)), (.sum, .sliding(_, let hop)), (.distinct, .sliding(_, let hop)):
                let marker = try r.varint()
                if marker == 0 { continue }
                guard marker < 1 << 40 else { throw DecodeError(description: "corrupt state: tile out of range") }
                let n = slot.tiles
                let head = WindowRule.tile(of: state.lastTime, hop: hop) &- Int64(bitPattern: marker - 1)
                state.slab[o] = head
                if case .distinct = slot.kind {
                    for d in 0..<n {
                        let count = try r.varint()
                        guard count <= UInt64(r.remaining / 8) else {
                            throw DecodeError(description: "truncated state")
                        }
                        var set = Set<UInt64>(minimumCapacity: Int(count))
                        for _ in 0..<count { set.insert(try r.fixed64()) }
                        state.sets[slot.setOffset + EngineLayout.cell(head - Int64(d), n)] = set
                    }
                } else {
                    let count = try r.varint()
                    guard count <= UInt64(n) else {
                        throw DecodeError(description: "corrupt state: \(count) tiles of \(n)")
                    }
                    for _ in 0..<count {
                        let d = try r.varint()
                        guard d < UInt64(n) else { throw DecodeError(description: "corrupt state: tile \(d) of \(n)") }
                        state.slab[o + 1 + EngineLayout.cell(head - Int64(d), n)] = try r.zigzag()
                    }
                }
            case (.count, .session), (.sum, .session):
                state.slab[o] = try r.zigzag()
            case (.distinct, .session):
                let count = try r.varint()
                guard count <= UInt64(r.remaining / 8) else { throw DecodeError(description: "truncated state") }
                var set = Set<UInt64>(minimumCapacity: Int(count))
                for _ in 0..<count { set.insert(try r.fixed64()) }
                state.sets[slot.setOffset] = set
            case (.first, _), (.last, _), (.span, _):
                guard let present = r.byte() else { throw DecodeError(description: "truncated state") }
                if present == 0 { continue }
                if case .span = slot.kind {
                    state.slab[o] = state.lastTime &- (try r.boundedZigzag())
                    state.slab[o + 1] = state.lastTime &- (try r.boundedZigzag())
                } else {
                    state.slab[o] = state.lastTime &- (try r.boundedZigzag())
                    state.slab[o + 1] = Int64(bitPattern: try r.fixed64())
                    state.slab[o + 2] = Int64(bitPattern: try r.fixed64())
                }
            }
        }
        guard r.remaining == 0 else { throw DecodeError(description: "\(r.remaining) trailing bytes after the state") }
        return state
    }

    public static func decode(_ bytes: [UInt8], layout: EngineLayout, entity: Int) throws(DecodeError) -> EntityState {
        let result = bytes.withUnsafeBytes { buf in
            Result { () throws(DecodeError) in try decode(buf, layout: layout, entity: entity) }
        }
        return try result.get()
    }

    // MARK: varints

    @inline(__always)
    static func putVarint(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    @inline(__always)
    static func putZigzag(_ v: Int64, _ out: inout [UInt8]) {
        putVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)), &out)
    }

    @inline(__always)
    static func putFixed64(_ v: UInt64, _ out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    struct Reader {
        let p: UnsafeRawBufferPointer
        var i = 0
        var remaining: Int { p.count - i }

        mutating func byte() -> UInt8? {
            guard i < p.count else { return nil }
            defer { i += 1 }
            return p[i]
        }

        mutating func varint() throws(DecodeError) -> UInt64 {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard let b = byte() else { throw DecodeError(description: "truncated state") }
                guard shift < 64 else { throw DecodeError(description: "corrupt varint") }
                v |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }

        mutating func zigzag() throws(DecodeError) -> Int64 {
            let u = try varint()
            return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
        }

        /// A time difference; anything past 2^60 µs (36 000 years) is corruption.
        mutating func boundedZigzag() throws(DecodeError) -> Int64 {
            let v = try zigzag()
            guard v.magnitude < 1 << 60 else { throw DecodeError(description: "corrupt state: time out of range") }
            return v
        }

        mutating func fixed64() throws(DecodeError) -> UInt64 {
            guard remaining >= 8 else { throw DecodeError(description: "truncated state") }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(p[i + k]) << UInt64(8 * k) }
            i += 8
            return v
        }
    }
}
