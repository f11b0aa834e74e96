import FeatureCore
import FsmlCore
import OfflineStorage

/// Pass 1 of a labelled build: the examples, their keys' ids and their labels, from the store's
/// files read in parallel (arrival order does not matter here: examples are sorted after, and a
/// label depends only on the event times of admitted outcomes).
struct ExampleFinder {
    let engine: FeatureEngine
    let labels: LabelRule
    let options: BuildOptions
    /// Only the examples of this partition (and the outcomes that can label them).
    var partition: EntityPartition? = nil

    /// The examples of the build, sorted by (time, sequence), and what else pass 1 learned.
    struct Found {
        /// The mature examples: their rows are written.
        var examples: ExampleSet
        /// Per mature example, its label.
        var labels: [Bool]
        /// Per entity kind, the keys the mature examples name (`ExampleSet.keys` are their ids).
        var keys: [EntityKeyTable]
        /// Examples in the build's time range, mature or not.
        var total = 0
        var eventsRead = 0
        /// The latest `knownAt` in the store (`.min` for an empty store).
        var lastKnown = Micros.min
        /// Per mature example, its `knownAt`, when the files are a group's members' (whose
        /// sequences do not say which of two members' events came first); empty otherwise.
        var arrivals: [Micros] = []
    }

    /// One file's examples and outcomes. Keys are given ids of the file's own (a key is named by
    /// many events; its text is kept once, not per example): the build's ids are given after.
    private struct Draft {
        var events = 0
        var lastKnown = Micros.min
        var times: [Micros] = []
        var sequences: [Int64] = []
        /// Per example, its `knownAt` (only for a group's files).
        var arrivals: [Micros] = []
        /// Per entity kind, the keys the file's examples name.
        var tables: [EntityKeyTable] = []
        /// Per example, per entity kind: the key's id in `tables`, or -1.
        var keys: [Int32] = []
        var request: [FieldValue] = []
        /// The match keys of the file's examples and outcomes.
        var matchTable = EntityKeyTable()
        /// Per example: its match key's id in `matchTable`, or -1.
        var matchKeys: [Int32] = []
        var outcomes: [(key: Int32, time: Micros)] = []

        mutating func matchId(_ key: String) -> Int32 { matchTable.id(key, hash: EntityKeyTable.hash(key)).id }
    }

    /// A file's ids of one key table given the build's ids, in the order the build first meets
    /// each key (so the ids are those of giving each example's key an id in turn).
    private struct IdMap {
        var ids: [[Int32]]

        init(_ drafts: [Draft], count: (Draft) -> Int) {
            ids = drafts.map { [Int32](repeating: -1, count: count($0)) }
        }

        mutating func id(file: Int, local: Int32, in table: inout EntityKeyTable, key: (Int32) -> String) -> Int32 {
            guard local >= 0 else { return -1 }
            if ids[file][Int(local)] < 0 {
                let text = key(local)
                ids[file][Int(local)] = table.id(text, hash: EntityKeyTable.hash(text)).id
            }
            return ids[file][Int(local)]
        }
    }

    /// `settledUntil(lastKnown)`: the final watermark, before which labels are settled.
    func find(files: [OfflineStore.DataFile], settledUntil: (Micros) throws -> Micros) throws -> Found {
        let spec = labels.spec
        let requestFields = engine.requestFields
        let fields = engine.fieldsRead.union(spec.example.fieldsRead).union(spec.outcome.fieldsRead)
            .union(spec.same).union(requestFields)
        let group = Set(files.map(\.member)).count > 1
        var drafts = try Parallel.map(files.count) { i in
            try draft(file: files[i], fields: fields, requestFields: requestFields, arrivals: group)
        }
        let lastKnown = drafts.map(\.lastKnown).max() ?? .min
        let settled = lastKnown == .min ? Micros.min : try settledUntil(lastKnown)

        // Sorted by (time, sequence); the immature ones, whose horizon reaches the final
        // watermark, are the latest: they are counted and dropped.
        var order: [(time: Micros, sequence: Int64, file: Int32, row: Int32)] = []
        order.reserveCapacity(drafts.reduce(0) { $0 + $1.times.count })
        for (d, draft) in drafts.enumerated() {
            for r in draft.times.indices { order.append((draft.times[r], draft.sequences[r], Int32(d), Int32(r))) }
        }
        order.sort { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
        let total = order.count
        while let last = order.last, !labels.isMature(last.time, settledUntil: settled) { order.removeLast() }

        let kinds = engine.entities.count
        // Each kind's keys get their ids on a thread of their own, and the labels' outcomes are
        // indexed on one more (first: it is the longest): they share nothing.
        enum Part {
            case keys(table: EntityKeyTable, ids: [Int32])
            case outcomes(OutcomeIndex)
        }
        var parts: [Part] = Parallel.map(kinds + 1) { i in
            let e = i - 1
            guard e >= 0 else {
                var table = EntityKeyTable()
                var map = IdMap(drafts) { $0.matchTable.keys.count }
                let exampleKeys = order.map { x in
                    let f = Int(x.file)
                    return map.id(file: f, local: drafts[f].matchKeys[Int(x.row)], in: &table) {
                        drafts[f].matchTable.keys[Int($0)]
                    }
                }
                // Outcomes of keys no example has are left out: such keys get no id.
                var matched: [(id: Int32, time: Micros)] = []
                for (f, draft) in drafts.enumerated() {
                    var known = [Int32](repeating: -2, count: draft.matchTable.keys.count)
                    for o in draft.outcomes {
                        if known[Int(o.key)] == -2 {
                            // An example of this file gave it an id already, or another file's did.
                            let mapped = map.ids[f][Int(o.key)]
                            let text = draft.matchTable.keys[Int(o.key)]
                            known[Int(o.key)] =
                                mapped >= 0 ? mapped : table.find(text, hash: EntityKeyTable.hash(text)) ?? -1
                        }
                        if known[Int(o.key)] >= 0 { matched.append((known[Int(o.key)], o.time)) }
                    }
                }
                return .outcomes(OutcomeIndex(keyOfExample: exampleKeys, keys: table.keys.count, outcomes: matched))
            }
            var table = EntityKeyTable()
            var map = IdMap(drafts) { $0.tables[e].keys.count }
            var ids: [Int32] = []
            ids.reserveCapacity(order.count)
            for x in order {
                let f = Int(x.file)
                ids.append(
                    map.id(file: f, local: drafts[f].keys[Int(x.row) * kinds + e], in: &table) {
                        drafts[f].tables[e].keys[Int($0)]
                    })
            }
            return .keys(table: table, ids: ids)
        }
        guard case .outcomes(let outcomes) = parts.removeFirst() else { preconditionFailure() }
        let keyed = parts.map { part -> (table: EntityKeyTable, ids: [Int32]) in
            guard case .keys(let table, let ids) = part else { preconditionFailure() }
            return (table, ids)
        }
        parts = []
        var examples = ExampleSet(kinds: kinds, requestFields: requestFields.count)
        examples.reserveCapacity(order.count)
        var exampleLabels: [Bool] = []
        exampleLabels.reserveCapacity(order.count)
        let width = requestFields.count
        for (k, x) in order.enumerated() {
            let r = Int(x.row)
            examples.append(
                time: x.time, sequence: x.sequence, keys: (0..<kinds).lazy.map { keyed[$0].ids[k] },
                request: drafts[Int(x.file)].request[r * width..<(r + 1) * width])
            exampleLabels.append(outcomes.any(forExample: k, after: x.time, upTo: x.time + spec.within))
        }
        let events = drafts.reduce(0) { $0 + $1.events }
        let arrivals = group ? order.map { drafts[Int($0.file)].arrivals[Int($0.row)] } : []
        drafts = []
        return Found(
            examples: examples, labels: exampleLabels, keys: keyed.map(\.table), total: total, eventsRead: events,
            lastKnown: lastKnown, arrivals: arrivals)
    }

    private func draft(
        file: OfflineStore.DataFile, fields: Set<Int>, requestFields: [Int], arrivals: Bool
    ) throws -> Draft {
        let spec = labels.spec
        var draft = Draft()
        draft.tables = [EntityKeyTable](repeating: EntityKeyTable(), count: engine.entities.count)
        // An outcome labels only examples with the same match key: in another partition when the
        // key holds the partition's field, it can be skipped.
        let outcomesByPartition = partition.map { spec.same.contains($0.field) } ?? false
        let match = MatchKeys(labels: labels, engine: engine)
        // Out of the plans once: walking the plans per event would copy (and retain) each one.
        let makers = engine.entities.map(\.keyMaker)
        let matchEntity = match.entity
        // The file's rows in one reused event: pass 1 keeps keys and times, never an event.
        draft.events = try OfflineStoreScanner.forEach(in: file, schema: engine.registry.schema, fields: fields) {
            event, sequence, knownAt in
            draft.lastKnown = max(draft.lastKnown, knownAt)
            if let partition, !partition.contains(event) {
                if !outcomesByPartition, spec.outcome.matches(event), let key = match.key(event) {
                    draft.outcomes.append((draft.matchId(key), event.time))
                }
                return
            }
            let isOutcome = spec.outcome.matches(event)
            let isExample = spec.example.matches(event)
            guard isOutcome || isExample else { return }
            var inRange = isExample
            if let s = options.start, event.time < s { inRange = false }
            if let e = options.end, event.time >= e { inRange = false }
            // Built once for an event that is both an outcome and an example, and taken from the
            // example's keys when an entity kind has the same one.
            var matchKey: String?
            var matchKeyMade = false
            if inRange {
                for e in makers.indices {
                    let key = makers[e].key(event)
                    if e == matchEntity {
                        matchKey = key
                        matchKeyMade = true
                    }
                    draft.keys.append(key.map { draft.tables[e].id($0, hash: EntityKeyTable.hash($0)).id } ?? -1)
                }
            }
            if !matchKeyMade { matchKey = match.key(event) }
            let matchId = matchKey.map { draft.matchId($0) } ?? -1
            if isOutcome && matchId >= 0 { draft.outcomes.append((matchId, event.time)) }
            guard inRange else { return }
            draft.times.append(event.time)
            draft.sequences.append(sequence)
            if arrivals { draft.arrivals.append(knownAt) }
            for f in requestFields { draft.request.append(event.values[f]) }
            draft.matchKeys.append(matchId)
        }
        return draft
    }

    /// The text that matches examples with their outcomes. It never leaves pass 1, so any text
    /// that tells the `same` values apart will do: when they are all strings, an entity key of
    /// those fields (one string built, where `LabelRule.matchKey` builds an array of parts and
    /// joins them), the very key of an entity kind keyed by them when there is one.
    private struct MatchKeys {
        let labels: LabelRule
        /// Set when every `same` field is a string.
        let maker: EntityKeyMaker?
        /// The entity kind keyed by exactly the `same` fields, in order, if any.
        let entity: Int?

        init(labels: LabelRule, engine: FeatureEngine) {
            self.labels = labels
            let same = labels.spec.same
            let strings = same.allSatisfy { engine.registry.schema.fields[$0].type == .string }
            maker = strings ? EntityKeyMaker(fields: same) : nil
            entity = strings ? engine.entities.firstIndex { $0.keyMaker.fields == same } : nil
        }

        func key(_ event: Event) -> String? {
            guard let maker else { return labels.matchKey(event) }
            return maker.key(event)
        }
    }
}
