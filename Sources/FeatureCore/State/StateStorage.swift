import FsmlCore

/// Where each slot of one entity kind's state lives: its offset in the state's words. Built once
/// per entity plan; every state of the kind holds a reference to it, which is what lets a state
/// deinitialize, copy and compare its partials without the plan at hand.
public final class StateLayout: Sendable {
    let slots: [SlotPlan]
    /// Words of each state.
    let words: Int
    /// Whether every partial is plain bits (no references): then a state's words are copied and
    /// freed as bytes.
    let isTrivial: Bool
    /// The entity plan's fingerprint: states of engines built from equal definitions compare equal.
    let fingerprint: UInt32
    /// Byte offsets of slot headers, what a fold reads first, at least a cache line apart (where
    /// lines fall depends on where the allocation does).
    let headerLines: [Int]
    /// An empty state's words, when every partial is plain bits: a new state is a copy of them,
    /// where initializing slot by slot calls each slot's aggregator.
    private let emptyWords: [UInt64]?

    init(slots: [SlotPlan], fingerprint: UInt32) {
        self.slots = slots
        self.fingerprint = fingerprint
        words = slots.last.map { $0.byteOffset / 8 + $0.operation.words(window: $0.window) } ?? 0
        isTrivial = slots.allSatisfy { $0.operation.isTrivial(window: $0.window) }
        var lines: [Int] = []
        for offset in slots.map(\.byteOffset) where offset >= (lines.last ?? -64) + 64 { lines.append(offset) }
        headerLines = lines
        if isTrivial {
            var template = [UInt64](repeating: 0, count: max(words, 1))
            template.withUnsafeMutableBytes { raw in
                for s in slots { s.operation.initialize(raw.baseAddress! + s.byteOffset, window: s.window) }
            }
            emptyWords = template
        } else {
            emptyWords = nil
        }
    }

    /// The byte offsets that `init` expects: slot after slot, in plan order.
    static func offsets(_ slots: [SlotPlan]) -> [Int] {
        var next = 0
        return slots.map { slot in
            defer { next += 8 * slot.operation.words(window: slot.window) }
            return next
        }
    }

    /// A state's storage with every slot empty.
    func makeEmpty() -> StateStorage {
        let storage = StateStorage.make(self)
        if let emptyWords {
            storage.withWords { words in
                emptyWords.withUnsafeBytes { words.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            return storage
        }
        storage.withWords { words in
            slots.withUnsafeBufferPointer { slots in
                for s in slots { s.operation.initialize(words + s.byteOffset, window: s.window) }
            }
        }
        return storage
    }
}

/// All the slots of one entity's state in a single allocation (the layout says where each is):
/// a fold touches one block of memory per entity instead of one per slot, and copying a state
/// before changing it (`EntityState.makeUnique`) is one allocation.
final class StateStorage: ManagedBuffer<StateLayout, UInt64> {
    static func make(_ layout: StateLayout) -> StateStorage {
        unsafeDowncast(create(minimumCapacity: max(layout.words, 1)) { _ in layout }, to: StateStorage.self)
    }

    @inline(__always)
    func withWords<R>(_ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        try withUnsafeMutablePointerToElements { try body(UnsafeMutableRawPointer($0)) }
    }

    var layout: StateLayout { header }

    deinit {
        guard !header.isTrivial else { return }
        withWords { words in
            for s in header.slots { s.operation.deinitialize(words + s.byteOffset, window: s.window) }
        }
    }

    func copy() -> StateStorage {
        let copy = StateStorage.make(header)
        withWords { from in
            copy.withWords { to in
                if header.isTrivial { return to.copyMemory(from: from, byteCount: 8 * header.words) }
                for s in header.slots { s.operation.copy(from + s.byteOffset, to: to + s.byteOffset, window: s.window) }
            }
        }
        return copy
    }

    func isEqual(to other: StateStorage) -> Bool {
        guard header.fingerprint == other.header.fingerprint else { return false }
        return withWords { a in
            other.withWords { b in
                header.slots.allSatisfy {
                    $0.operation.isEqual(a + $0.byteOffset, b + $0.byteOffset, window: $0.window)
                }
            }
        }
    }
}
