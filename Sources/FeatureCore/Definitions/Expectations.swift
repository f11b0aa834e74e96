import FsmlCore

/// Data-quality expectations declared in fsml.yaml's `expectations:` section, checked by
/// `fsml validate` on events, the offline store or a dataset.
public struct Expectations: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public var name: String
        public var maxNullRate: Double?
        public var min: Double?
        public var max: Double?
        public var values: [String]?
        public var unique = false
        public var line: Int?

        public init(
            name: String, maxNullRate: Double? = nil, min: Double? = nil, max: Double? = nil, values: [String]? = nil,
            unique: Bool = false, line: Int? = nil
        ) {
            self.name = name
            self.maxNullRate = maxNullRate
            self.min = min
            self.max = max
            self.values = values
            self.unique = unique
            self.line = line
        }
    }

    public var columns: [Column] = []
    /// At most this fraction of lines may fail the event schema (dead letters).
    public var maxInvalidRate: Double?
    /// The newest event may be at most this old at the validation time.
    public var freshness: Micros?

    public init() {}
}
