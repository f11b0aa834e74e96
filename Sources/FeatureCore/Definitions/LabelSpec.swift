import FsmlCore

/// How training examples and their labels come from events: each event that passes `example` is
/// an example, labelled 1 when an `outcome` event with the same `same` fields follows `within`.
public struct LabelSpec: Sendable, Equatable {
    public var name: String
    /// Events that make examples.
    public var example: Filter
    /// Events that make an example positive.
    public var outcome: Filter
    /// Fields that must be equal on the example and the outcome event.
    public var same: [Int]
    /// The outcome must come within this time after the example: (t, t + within].
    public var within: Micros

    public init(name: String, example: Filter, outcome: Filter, same: [Int], within: Micros) {
        self.name = name
        self.example = example
        self.outcome = outcome
        self.same = same
        self.within = within
    }
}
