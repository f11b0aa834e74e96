/// The partial of `first_k` and `last_k`: the k earliest or latest values, best first, each with
/// its event's time and tie-break (`PickedEvent`), so that two partials merge into exactly the
/// list that folding both sets of events gives. With `distinct`, a value appears once, at its
/// best event; that merges exactly too (a value dropped from one part's list had k better
/// distinct values there, which stay better in the union).
enum PickedList {
    @inline(__always)
    static func better(_ a: PickedEvent, than b: PickedEvent, latest: Bool) -> Bool {
        latest ? b.precedes(a) : a.precedes(b)
    }

    static func insert(_ pick: PickedEvent, into list: inout [PickedEvent], k: Int, latest: Bool, distinct: Bool) {
        if list.count == k, let worst = list.last, !better(pick, than: worst, latest: latest) { return }
        if distinct, let i = list.firstIndex(where: { $0.valueBits == pick.valueBits }) {
            guard better(pick, than: list[i], latest: latest) else { return }
            list.remove(at: i)
        }
        var lo = 0
        var hi = list.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if better(list[mid], than: pick, latest: latest) || list[mid] == pick { lo = mid + 1 } else { hi = mid }
        }
        list.insert(pick, at: lo)
        if list.count > k { list.removeLast() }
    }

    /// The count, then per pick its time (relative to the state's latest event), tie and value.
    static func encode(_ list: [PickedEvent], to writer: inout StateWriter) {
        writer.varint(UInt64(list.count))
        for p in list {
            writer.time(p.time)
            writer.fixed64(p.tie)
            writer.fixed64(p.valueBits)
        }
    }

    static func decode(from reader: inout StateReader, k: Int) throws(StateDecodeError) -> [PickedEvent] {
        let count = try reader.count(ofItemsOfSize: 17)
        guard count <= k else { throw StateDecodeError("corrupt state: \(count) values of at most \(k)") }
        var list: [PickedEvent] = []
        for _ in 0..<count {
            list.append(
                PickedEvent(time: try reader.time(), tie: try reader.fixed64(), valueBits: try reader.fixed64()))
        }
        return list
    }
}

/// `first_k` and `last_k`: everything but their name and which end they keep.
public protocol PickedKAggregator: Aggregator where Partial == [PickedEvent] {
    /// Whether the latest events are kept (`last_k`) rather than the earliest.
    static var keepsLatest: Bool { get }
    var field: Int { get }
    var idField: Int { get }
    var k: Int { get }
    var distinct: Bool { get }
    /// Which element this feature is (0-based); nil before the definition is expanded.
    var output: Int? { get }
    init(field: Int, idField: Int, k: Int, distinct: Bool, output: Int?)
}

extension PickedKAggregator {
    public static var argumentKeys: [String] { ["field", "k", "distinct"] }

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        self.init(
            field: try arguments.field(numeric: true), idField: arguments.schema.idField,
            k: try arguments.integer("k", in: 1...100), distinct: try arguments.flag("distinct", default: false),
            output: nil)
    }

    public var stateIdentity: String { "\(Self.name)(field: \(field), k: \(k), distinct: \(distinct))" }
    public var identity: String { "\(stateIdentity)[\(output ?? -1)]" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("k", "\(k)"), ("distinct", "\(distinct)")]
    }
    public var fieldsRead: Set<Int> { [field, idField] }
    public var outputs: [any Aggregator] {
        (0..<k).map { Self(field: field, idField: idField, k: k, distinct: distinct, output: $0) }
    }
    public var outputSuffix: String { output.map { "_\($0 + 1)" } ?? "" }

    public var empty: [PickedEvent] { [] }
    public func update(_ partial: inout [PickedEvent], with event: Event) {
        guard event.values[field].numericValue != nil else { return }
        PickedList.insert(
            PickedEvent(event, field: field, idField: idField), into: &partial, k: k, latest: Self.keepsLatest,
            distinct: distinct)
    }
    public func merge(_ partial: inout [PickedEvent], with other: [PickedEvent]) {
        for p in other { PickedList.insert(p, into: &partial, k: k, latest: Self.keepsLatest, distinct: distinct) }
    }
    public func finalize(_ partial: [PickedEvent]) -> Double {
        guard let i = output, i < partial.count else { return .nan }
        return partial[i].value
    }
    public func encode(_ partial: [PickedEvent], to writer: inout StateWriter) {
        PickedList.encode(partial, to: &writer)
    }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> [PickedEvent] {
        try PickedList.decode(from: &reader, k: k)
    }
}
