import FeatureCore
import FsmlCore
import OfflineStorage

/// One of the hash partitions a labelled build splits its examples into, so that memory holds
/// one partition's examples and states at a time (`BuildOptions.partitions`).
///
/// Examples are split by a stable hash of one key field, the one most entity kinds key on (the
/// user's id in the reference project): every key of a kind that includes the field belongs to
/// one partition, so that partition holds all examples that read it and the other partitions never
/// keep its state. Kinds keyed without the field (the products there) are folded in every
/// partition, for the keys its examples name. An entity's state depends only on its own events, so each partition's
/// rows are the rows an unpartitioned build writes for its examples.
struct EntityPartition: Sendable, Equatable {
    /// The schema index of the field the partitions split by.
    let field: Int
    let count: Int
    let index: Int

    /// The field most entity kinds' keys include (the earliest such field on a tie), nil when no
    /// kind has a key field.
    static func field(engine: FeatureEngine) -> Int? {
        var kinds: [Int: Int] = [:]
        for plan in engine.entities {
            for f in Set(plan.keyMaker.fields) { kinds[f, default: 0] += 1 }
        }
        return kinds.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
    }

    /// The partition an event's field value falls in; events without the value fall in partition 0.
    static func of(_ value: FieldValue, count: Int) -> Int {
        let hash: UInt64
        switch value {
        case .missing: return 0
        case .string(let s): hash = StableHash.hash(s)
        case .number(let x): hash = StableHash.mix(UInt64(bitPattern: Int64(x)))
        case .bool(let b): hash = b ? 1 : 0
        }
        return Int(hash % UInt64(count))
    }

    @inline(__always)
    func contains(_ event: Event) -> Bool { Self.of(event.values[field], count: count) == index }

    /// How many partitions a build of these files needs to stay within `budget` bytes: the rows of
    /// the store's files, at `bytesPerEvent` each. Measured on the reference project (2 M and 10 M
    /// generated events), a build's peak resident memory is about 450 MB plus 350 bytes per event
    /// of its partition; 500 per event covers both.
    static func count(rows: Int, budget: Int, bytesPerEvent: Int = 500) -> Int {
        guard budget > 0 else { return 1 }
        let needed = rows.multipliedReportingOverflow(by: bytesPerEvent).partialValue
        return max(1, (needed + budget - 1) / budget)
    }
}
