import FeatureCore

/// Named feature values as of one time: NaN where a feature is missing (no state, an expired
/// entity, a window with no events where that has no value, a request field not given).
public struct FeatureVector: Sendable, Equatable {
    /// The features, in the order asked for (or the project's served order).
    public let names: [String]
    /// One value per name; NaN where missing.
    public let values: [Double]

    /// A vector from values computed elsewhere, one per name.
    public init(names: [String], values: [Double]) {
        precondition(names.count == values.count, "one value per name")
        self.names = names
        self.values = values
    }

    /// The value of the feature called `name`; nil when the vector has no such feature.
    public subscript(name: String) -> Double? { names.firstIndex(of: name).map { values[$0] } }

    /// The features that are missing.
    public var missing: [String] { zip(names, values).filter { $0.1.isNaN }.map(\.0) }
}

/// A request's fields by name (entity keys and the fields derived features read), as an event
/// without a time: what keys and expressions read.
func requestEvent(_ fields: [String: FieldValue], schema: EventSchema) -> Event {
    var values = [FieldValue](repeating: .missing, count: schema.fields.count)
    for (name, value) in fields {
        if let i = schema.index(of: name) { values[i] = value }
    }
    return Event(time: 0, values: values)
}

/// Features by name, as registry indexes (all served features when `names` is nil).
func featureIndexes(_ names: [String]?, registry: FeatureRegistry) throws -> [Int] {
    guard let names else { return registry.servedFeatures }
    return try names.map { name in
        guard let i = registry.featureIndex(name) else {
            throw FSMLError("\(registry.source) defines no feature '\(name)'")
        }
        return i
    }
}

/// A mistake in a call: the message says which.
public struct FSMLError: Error, CustomStringConvertible, Sendable {
    /// What was wrong, naming the file, feature or field.
    public let description: String
    init(_ description: String) { self.description = description }
}
