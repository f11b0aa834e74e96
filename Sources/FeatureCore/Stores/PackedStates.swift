import FsmlCore

/// Entity states for an online store packed in one buffer: what the stream job hands its writer
/// thread after each micro-batch. As `[StateRecord]` each state was a key and a byte array of its
/// own, retained on the job's thread and freed on the writer's (tens of thousands per batch, each
/// a cache miss); packed, a batch is two allocations, written as it is into the store's commands.
public struct PackedStates: Sendable {
    public struct Entry: Sendable {
        public var entity: Int32
        public var keyLength: Int32
        /// Where the key starts in `bytes`; the state follows it.
        public var offset: Int
        public var blobLength: Int
        public var lastTime: Micros
    }

    /// Each state's key, then its bytes.
    public private(set) var bytes: [UInt8] = []
    public private(set) var entries: [Entry] = []

    public init() {}

    public init(_ records: [StateRecord]) {
        reserve(states: records.count, bytes: records.reduce(0) { $0 + $1.key.utf8.count + $1.blob.count })
        for r in records { append(entity: r.entity, key: r.key, lastTime: r.lastTime, blob: r.blob) }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    public mutating func reserve(states: Int, bytes count: Int) {
        entries.reserveCapacity(states)
        bytes.reserveCapacity(count)
    }

    public mutating func append(entity: Int, key: String, lastTime: Micros, blob: [UInt8]) {
        let offset = bytes.count
        bytes += key.utf8
        bytes += blob
        entries.append(
            Entry(
                entity: Int32(entity), keyLength: Int32(bytes.count - offset - blob.count), offset: offset,
                blobLength: blob.count, lastTime: lastTime))
    }

    /// Calls `body` with each state's entity kind, key bytes, latest event time and bytes, in order.
    public func forEach(_ body: (Int, UnsafeRawBufferPointer, Micros, UnsafeRawBufferPointer) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { all in
            for e in entries {
                let keyEnd = e.offset + Int(e.keyLength)
                try body(
                    Int(e.entity), UnsafeRawBufferPointer(rebasing: all[e.offset..<keyEnd]), e.lastTime,
                    UnsafeRawBufferPointer(rebasing: all[keyEnd..<keyEnd + e.blobLength]))
            }
        }
    }

    /// The states as records, for a store that takes nothing else.
    public func records() -> [StateRecord] {
        var out: [StateRecord] = []
        out.reserveCapacity(entries.count)
        forEach { entity, key, lastTime, blob in
            out.append(
                StateRecord(
                    entity: entity, key: String(decoding: key, as: UTF8.self), lastTime: lastTime, blob: Array(blob)))
        }
        return out
    }
}
