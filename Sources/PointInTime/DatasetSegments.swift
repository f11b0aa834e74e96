import FeatureCore

/// Which dataset columns metrics are reported per value of, when none are named: the categorical
/// event fields that are neither entity keys, the id, nor the label's matching fields, and of
/// those the ones with 2 to 20 distinct values in the rows evaluated (a device type or a country,
/// say; never an id).
public enum DatasetSegments {
    public static func candidates(_ registry: FeatureRegistry) -> [String] {
        let excluded = Set(
            registry.entities.flatMap(\.keyFields) + [registry.schema.idField] + (registry.label?.same ?? []))
        return registry.schema.fields.indices.filter {
            registry.schema.fields[$0].type == .string && !excluded.contains($0)
        }.map { registry.schema.fields[$0].name }
    }

    /// The candidates worth a breakdown in `table`.
    public static func reported(_ candidates: [String], in table: DatasetTable) -> [String] {
        candidates.filter { c in table.segments[c].map { (2...20).contains(Set($0.compactMap { $0 }).count) } ?? false }
    }
}
