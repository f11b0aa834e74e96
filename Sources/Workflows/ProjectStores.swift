import FeatureCore
import OnlineStorage

/// The stores a project names, opened as every command and an embedding program open them.
public enum ProjectStores {
    /// The online store `url` names (default: stores.online in fsml.yaml); a SQLite path is
    /// relative to fsml.yaml at `config`.
    public static func online(
        _ url: String?, registry: FeatureRegistry, config: String, timeoutMillis: Int = 1000
    ) throws -> any OnlineStore {
        let parsed: OnlineStoreURL
        do { parsed = try OnlineStoreURL.parse(url ?? registry.stores.online) } catch {
            throw WorkflowError("online store: \(error.description)")
        }
        var resolved = parsed
        if case .sqlite(let path) = parsed { resolved = .sqlite(path: ProjectPaths.resolve(path, config: config)) }
        return try OnlineStores.open(
            resolved, project: registry.project, entities: registry.entities, timeoutMillis: timeoutMillis)
    }
}
