import FeatureCore
import FsmlCore

public enum OnlineStores {
    /// Opens the store a URL names. `timeoutMillis` bounds connecting and each reply.
    public static func open(
        _ url: OnlineStoreURL, project: String, entities: [EntitySpec], timeoutMillis: Int = 1000
    ) throws -> any OnlineStore {
        switch url {
        case .redis(let host, let port, let db, let password):
            return try RedisOnlineStore(
                host: host, port: port, db: db, password: password, project: project, entities: entities,
                timeoutMillis: timeoutMillis)
        case .redisCluster(let nodes, let password, let readFromReplicas):
            return try RedisClusterOnlineStore(
                seeds: nodes, password: password,
                project: project, entities: entities, timeoutMillis: timeoutMillis, readsFromReplicas: readFromReplicas)
        case .sqlite(let path):
            return try SQLiteOnlineStore(path: path, entities: entities)
        }
    }
}
