import FeatureCore
import FsmlCore

extension FeatureLookup {
    /// The model's row for one request: states by entity kind (nil where none was read) and the
    /// request's fields by schema index, as of `asOf`; NaN for a missing feature. The array form of
    /// `vector`: no dictionary of states or fields, and no names until an answer lists them.
    func row(states: [EntityState?], fields: [FieldValue], asOf: Micros) -> [Float] {
        var values = [Float](repeating: .nan, count: features.count)
        fields.withUnsafeBufferPointer { fields in
            for (i, f) in features.enumerated() {
                let v = engine.value(feature: f, states: states, fields: { fields[$0] }, asOf: asOf)
                if !v.isNaN { values[i] = Float(v) }
            }
        }
        return values
    }
}
