import FeatureCore

/// A labelled build's rows come together from two sides: each example's feature values from the
/// evaluator, in example order, and its event's own fields from the replay, in the replay's order
/// (arrival order when values are as known, where an example's event can come after later
/// examples' events). A row is complete when both are in; rows leave in example order.
struct RowAssembler {
    /// Values per example.
    let width: Int
    /// The next example to leave; the ones before it are gone.
    private(set) var next = 0
    /// The example that `contexts[0]` and `values[0..<width]` are for (at most `next`).
    private var base = 0
    private var contexts: [[FieldValue]?] = []
    private var values: [Double] = []

    init(width: Int) { self.width = width }

    /// The values of the next examples, `width` per example, in example order.
    mutating func addValues(_ more: [Double]) { values.append(contentsOf: more) }

    /// The fields of example `k`'s event.
    mutating func setContext(_ k: Int, _ context: [FieldValue]) {
        let i = k - base
        if i >= contexts.count { contexts.append(contentsOf: repeatElement(nil, count: i + 1 - contexts.count)) }
        contexts[i] = context
    }

    /// Hands over the complete rows at the front, in order: the example, its fields and its values.
    mutating func takeComplete(
        _ body: (_ k: Int, _ context: [FieldValue], _ values: ArraySlice<Double>) throws -> Void
    ) rethrows {
        while (next - base + 1) * width <= values.count, next - base < contexts.count,
            let context = contexts[next - base]
        {
            let start = (next - base) * width
            try body(next, context, values[start..<start + width])
            contexts[next - base] = nil
            next += 1
        }
        // What has left is dropped now and then, not per row: a removal moves what stays.
        let gone = next - base
        if gone >= 4096 && gone * 2 >= contexts.count {
            contexts.removeFirst(gone)
            values.removeFirst(gone * width)
            base = next
        }
    }
}
