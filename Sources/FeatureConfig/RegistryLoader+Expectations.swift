import FeatureCore

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
