/// The encoded bytes of every entity state a stream job holds, kept current as states change:
/// a checkpoint writes these instead of encoding every state again, although most have not
/// changed since the last one (a job with 600 k states and a 5 s checkpoint interval spent a
/// fifth of its CPU re-encoding unchanged states).
///
/// The bytes are kept as the checkpoint's own records (entity, key length, key, state length,
/// state; `Checkpoint`), appended to one arena as states change, so that a checkpoint writes runs
/// of the arena as they are. Kept as a key and a byte array per state, a checkpoint of 1.2 M
/// states touched 2.4 M scattered heap objects, one cache miss each: a tenth of the job's CPU.
/// A changed state's new record goes at the end and its old one is dead space, reclaimed when
/// the dead bytes outgrow the live ones.
///
/// By the ids the job's state table gives its keys (`StateTable`), so that recording a changed
/// state's bytes is an array store rather than a hash of its key.
struct EncodedStates: CheckpointStates {
    /// Where a state's record is in `arena` (offset -1: none), and its lengths, so that replacing
    /// it needs no read of the old record.
    struct Slot {
        var offset = -1
        var keyLength: UInt32 = 0
        var blobLength: UInt32 = 0
    }

    /// Per entity kind, by id.
    private var offsets: [[Slot]]
    /// Checkpoint records, live and dead, in the order they were written.
    private var arena: [UInt8] = []
    /// Per record of `arena`, in the same order: its entity kind and id, which tell whether it is
    /// still the state's record (`offsets` points at it) or was replaced since.
    private var owners: [(entity: UInt32, id: Int32)] = []
    private var deadBytes = 0
    private(set) var count = 0
    /// The bytes of the states, and of their keys.
    private(set) var stateBytes = 0
    private var keyBytes = 0
    var byteCount: Int { stateBytes + keyBytes }

    /// A record's entity byte and two lengths.
    static let overhead = 9

    init(entityCount: Int) {
        offsets = Array(repeating: [], count: entityCount)
    }

    /// Records the bytes of the state with this id and key; nil forgets it.
    mutating func set(entity e: Int, id: Int32, key: String, _ blob: [UInt8]?) {
        blob.withUnsafeBufferPointerIfSome { set(entity: e, id: id, key: key, $0) }
    }

    private mutating func set(entity e: Int, id: Int32, key: String, _ blob: UnsafeBufferPointer<UInt8>?) {
        let i = Int(id)
        if i >= offsets[e].count {
            guard blob != nil else { return }
            offsets[e].append(contentsOf: repeatElement(Slot(), count: i + 1 - offsets[e].count))
        }
        let old = offsets[e][i]
        if old.offset >= 0 {
            count -= 1
            keyBytes -= Int(old.keyLength)
            stateBytes -= Int(old.blobLength)
            deadBytes += Self.overhead + Int(old.keyLength) + Int(old.blobLength)
            offsets[e][i] = Slot()
        }
        if let blob {
            var key = key
            key.withUTF8 { keyBytes in
                offsets[e][i] = Slot(
                    offset: arena.count, keyLength: UInt32(keyBytes.count), blobLength: UInt32(blob.count))
                arena.append(UInt8(e))
                Checkpoint.put32(UInt32(keyBytes.count), &arena)
                arena.append(contentsOf: keyBytes)
                Checkpoint.put32(UInt32(blob.count), &arena)
                arena.append(contentsOf: blob)
                self.keyBytes += keyBytes.count
            }
            owners.append((UInt32(e), id))
            count += 1
            stateBytes += blob.count
        }
        if deadBytes > 1 << 20 && deadBytes > arena.count / 2 { compact() }
    }

    /// Forgets evicted states, per entity kind.
    mutating func remove(_ evicted: [[(id: Int32, key: String)]]) {
        for (e, states) in evicted.enumerated() {
            for (id, key) in states { set(entity: e, id: id, key: key, nil as UnsafeBufferPointer<UInt8>?) }
        }
    }

    private static func read32(_ a: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        UInt32(a[at]) | UInt32(a[at + 1]) << 8 | UInt32(a[at + 2]) << 16 | UInt32(a[at + 3]) << 24
    }

    /// Calls `body` with each live record's offset and length, in arena order.
    private func forEachLive(_ body: (Int, Int) throws -> Void) rethrows {
        try arena.withUnsafeBufferPointer { a in
            try offsets.withUnsafeBufferPointer { offsets in
                var at = 0
                for owner in owners {
                    let key = Int(Self.read32(a, at + 1))
                    let length = Self.overhead + key + Int(Self.read32(a, at + 5 + key))
                    if offsets[Int(owner.entity)][Int(owner.id)].offset == at { try body(at, length) }
                    at += length
                }
            }
        }
    }

    /// Keeps only the live records, in their order, moved down in place: the arena keeps its
    /// pages (a new one for each compaction cost a page fault and a zeroed page per 4 KiB).
    private mutating func compact() {
        var write = 0
        var kept = 0
        var bytes: [UInt8] = []
        swap(&bytes, &arena)
        bytes.withUnsafeMutableBytes { a in
            var at = 0
            for j in owners.indices {
                let owner = owners[j]
                let key = Int(a.loadUnaligned(fromByteOffset: at + 1, as: UInt32.self).littleEndian)
                let blob = Int(a.loadUnaligned(fromByteOffset: at + 5 + key, as: UInt32.self).littleEndian)
                let length = Self.overhead + key + blob
                let (e, i) = (Int(owner.entity), Int(owner.id))
                if offsets[e][i].offset == at {
                    if write != at { (a.baseAddress! + write).copyMemory(from: a.baseAddress! + at, byteCount: length) }
                    offsets[e][i].offset = write
                    owners[kept] = owner
                    kept += 1
                    write += length
                }
                at += length
            }
        }
        bytes.removeLast(bytes.count - write)
        arena = bytes
        owners.removeLast(owners.count - kept)
        deadBytes = 0
    }

    /// The records of every held state, in runs of consecutive live records.
    func forEachRecordRun(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var run = (start: 0, end: 0)
        try arena.withUnsafeBytes { bytes in
            try forEachLive { offset, length in
                if offset != run.end {
                    if run.end > run.start { try body(UnsafeRawBufferPointer(rebasing: bytes[run.start..<run.end])) }
                    run.start = offset
                }
                run.end = offset + length
            }
            if run.end > run.start { try body(UnsafeRawBufferPointer(rebasing: bytes[run.start..<run.end])) }
        }
    }

    /// Calls `body` with every state's entity kind, key and bytes.
    func forEach(_ body: (Int, String, [UInt8]) -> Void) {
        arena.withUnsafeBufferPointer { a in
            forEachLive { at, length in
                let key = Int(Self.read32(a, at + 1))
                body(
                    Int(a[at]),
                    String(decoding: UnsafeBufferPointer(rebasing: a[at + 5..<at + 5 + key]), as: UTF8.self),
                    Array(a[at + 9 + key..<at + length]))
            }
        }
    }
}

extension Optional where Wrapped == [UInt8] {
    /// `body` with the array's elements, or with nil.
    fileprivate func withUnsafeBufferPointerIfSome<R>(_ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        guard let self else { return try body(nil) }
        return try self.withUnsafeBufferPointer { try body($0) }
    }
}
