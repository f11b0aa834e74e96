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

extension RegistryLoader {
    static func parseExpectations(_ node: ConfigNode) throws(ConfigError) -> Expectations {
        var result = Expectations()
        for (key, value) in try node.mapping(allowed: ["columns", "max_invalid_rate", "freshness"]) {
            switch key {
            case "max_invalid_rate": result.maxInvalidRate = try rate(value)
            case "freshness": result.freshness = try value.duration()
            default:
                for (name, spec) in try value.entries() {
                    var column = Expectations.Column(name: name, line: spec.line)
                    for (k, v) in try spec.mapping(allowed: ["max_null_rate", "min", "max", "values", "unique"]) {
                        switch k {
                        case "max_null_rate": column.maxNullRate = try rate(v)
                        case "min": column.min = try v.number()
                        case "max": column.max = try v.number()
                        case "values": column.values = try v.stringList()
                        default: column.unique = try v.bool()
                        }
                    }
                    result.columns.append(column)
                }
            }
        }
        return result
    }

    private static func rate(_ node: ConfigNode) throws(ConfigError) -> Double {
        let x = try node.number()
        guard x >= 0 && x <= 1 else { throw node.error("a rate is between 0 and 1") }
        return x
    }
}
