/// Where a project's states and events live by default.
public struct StoreSpec: Sendable, Equatable {
    /// `redis://[:password@]host:port/db` or `sqlite:PATH` (`OnlineStoreURL`).
    public var online: String
    /// A directory.
    public var offline: String

    public init(online: String, offline: String) {
        self.online = online
        self.offline = offline
    }
}
