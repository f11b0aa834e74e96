import FsmlCore

/// Entity state as compact, versioned bytes: what the online stores and checkpoints hold and the
/// server decodes.
///
/// Layout (version 1): the version byte; the entity plan's 32-bit fingerprint (little endian),
/// which refuses a state written under other feature definitions; the latest event time (zigzag
/// varint); then each slot in plan order, as its window writes it (`TiledWindow.encode`,
/// `SessionWindow.encode`) with the partials its aggregator writes (`Aggregator.encode`). Times
/// inside are relative to the latest event time; sets are written sorted, so equal states give
/// equal bytes. States written before the aggregator redesign are byte for byte the same
/// (`Tests/FeatureCoreTests/Fixtures/states-v1.json`).
public enum StateCodec {
    public static let version: UInt8 = 1

    public static func encode(_ state: EntityState, engine: FeatureEngine, entity: Int) -> [UInt8] {
        let plan = engine.entities[entity]
        var writer = StateWriter(lastTime: state.lastTime, capacity: 32 + 16 * plan.slots.count)
        writer.byte(version)
        for shift in stride(from: 0, to: 32, by: 8) {
            writer.byte(UInt8(truncatingIfNeeded: plan.fingerprint >> UInt32(shift)))
        }
        writer.zigzag(state.lastTime)
        state.storage!.withWords { words in
            plan.slots.withUnsafeBufferPointer { slots in
                for s in slots { s.operation.encode(words + s.byteOffset, window: s.window, to: &writer) }
            }
        }
        return writer.bytes
    }

    public static func decode(
        _ bytes: UnsafeRawBufferPointer, engine: FeatureEngine, entity: Int
    ) throws(StateDecodeError) -> EntityState {
        let plan = engine.entities[entity]
        var reader = StateReader(bytes)
        guard reader.remaining > 0 else { throw StateDecodeError("empty state") }
        let v = try reader.byte()
        guard v == version else { throw StateDecodeError("state version \(v) is not \(version)") }
        var fp: UInt32 = 0
        for shift in stride(from: 0, to: 32, by: 8) { fp |= UInt32(try reader.byte()) << UInt32(shift) }
        guard fp == plan.fingerprint else {
            throw StateDecodeError(
                "state was written under other feature definitions (fingerprint \(fp), expected \(plan.fingerprint))")
        }
        let lastTime = try reader.zigzag()
        // Bounds that keep every later tile and time computation far from overflow.
        guard lastTime.magnitude < 1 << 60 else { throw StateDecodeError("corrupt state: time out of range") }
        reader.lastTime = lastTime
        let storage = plan.layout.makeEmpty()
        let failure: StateDecodeError? = storage.withWords { words in
            for s in plan.slots {
                do throws(StateDecodeError) {
                    try s.operation.decode(window: s.window, from: &reader, into: words + s.byteOffset)
                } catch { return error }
            }
            return nil
        }
        if let failure { throw failure }
        guard reader.remaining == 0 else {
            throw StateDecodeError("\(reader.remaining) trailing bytes after the state")
        }
        return EntityState(lastTime: lastTime, storage: storage)
    }

    public static func decode(
        _ bytes: [UInt8], engine: FeatureEngine, entity: Int
    ) throws(StateDecodeError) -> EntityState {
        let result = bytes.withUnsafeBytes { buf in
            Result { () throws(StateDecodeError) in try decode(buf, engine: engine, entity: entity) }
        }
        return try result.get()
    }
}
