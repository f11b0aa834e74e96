import FeatureCore
import FsmlCore
import OfflineStorage

/// The order a point-in-time build folds the offline store's events in, with the progress value
/// that says which examples can be evaluated: all events before an example's time by that measure
/// have been folded once the progress reaches it.
///
/// - As known (default): arrival order; progress is `knownAt`, the stream's clock when the event
///   arrived. Exactly the state the stream job had when its clock passed t.
/// - Event time only: event-time order, restored from arrival order with a buffer no longer than
///   the allowed lateness (an admitted event is never older than the watermark at its arrival).
struct Replay {
    private let scanner: OfflineStoreScanner
    private let eventTimeOnly: Bool
    private let lateness: Micros
    /// Buffered events wait in slots; the heap orders plain keys, so reordering it moves no
    /// event (and retains nothing).
    private var buffer = Heap<(time: Micros, sequence: Int64, slot: Int32)> {
        ($0.time, $0.sequence) < ($1.time, $1.sequence)
    }
    private var slots: [StoredEvent?] = []
    private var freeSlots: [Int32] = []
    private var drained = false

    init(scanner: OfflineStoreScanner, eventTimeOnly: Bool, lateness: Micros) {
        self.scanner = scanner
        self.eventTimeOnly = eventTimeOnly
        self.lateness = lateness
    }

    /// The next event and the progress it brings.
    mutating func next() throws -> (event: StoredEvent, progress: Micros)? {
        guard eventTimeOnly else {
            guard let e = try scanner.next() else { return nil }
            return (e, e.knownAt)
        }
        while !drained {
            if let top = buffer.peek, let watermark = currentWatermark, top.time < watermark { break }
            guard let e = try scanner.next() else {
                drained = true
                break
            }
            lastKnownAt = e.knownAt
            let slot: Int32
            if let free = freeSlots.popLast() {
                slot = free
                slots[Int(slot)] = e
            } else {
                slot = Int32(slots.count)
                slots.append(e)
            }
            buffer.push((e.event.time, e.sequence, slot))
        }
        guard let top = buffer.pop() else { return nil }
        var taken: StoredEvent?
        swap(&taken, &slots[Int(top.slot)])
        let e = taken.unsafelyUnwrapped
        freeSlots.append(top.slot)
        return (e, e.event.time)
    }

    private var lastKnownAt: Micros?
    private var currentWatermark: Micros? { lastKnownAt.map { $0 - lateness } }

    var eventsRead: Int { scanner.eventsRead }

    /// Events at or after this instant, by the replay's own measure, can still come: what happened
    /// before it is settled. Arrival order: the watermark; event-time order: the progress itself.
    func settled(after progress: Micros) -> Micros { eventTimeOnly ? progress : progress - lateness }
}

/// A binary min-heap ordered by `less`.
struct Heap<T> {
    private var items: [T] = []
    private let less: (T, T) -> Bool

    init(less: @escaping (T, T) -> Bool) { self.less = less }

    var count: Int { items.count }
    var peek: T? { items.first }

    mutating func push(_ x: T) {
        items.append(x)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> T? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var m = i
                if l < items.count && less(items[l], items[m]) { m = l }
                if r < items.count && less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
