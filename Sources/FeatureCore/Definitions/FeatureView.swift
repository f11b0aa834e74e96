/// Features served together for one entity; the views' features, in order, are a model's inputs.
public struct FeatureView: Sendable, Equatable {
    public var name: String
    public var entity: Int
    public var features: [Int]

    public init(name: String, entity: Int, features: [Int]) {
        self.name = name
        self.entity = entity
        self.features = features
    }
}
