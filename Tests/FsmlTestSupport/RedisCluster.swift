import Foundation

/// A real Redis Cluster for one test: masters × (1 + replicas) redis-server processes in cluster
/// mode on free loopback ports, joined by `redis-cli --cluster create`. Every wait is on state the
/// cluster reports (CLUSTER INFO, CLUSTER NODES, INFO replication), never on time alone; the
/// limit on a wait only turns a cluster that never gets there into a failure instead of a hang.
public final class RedisCluster: @unchecked Sendable {
    public let servers: [RedisServer]
    private let directory: String

    public struct Node: Sendable, Equatable {
        public var id: String
        public var port: Int
        public var isMaster: Bool
        public var masterID: String?
        public var failed: Bool
        public var slots: [ClosedRange<Int>]
        public var slotCount: Int { slots.reduce(0) { $0 + $1.count } }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static var cli: String? {
        ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public init(masters: Int = 3, replicas: Int = 1) throws {
        guard let cli = Self.cli else { throw Failure(description: "redis-cli is not installed") }
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("fsml-cluster-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // A short node timeout (2 s: shorter flaps on a loaded 2-core machine) makes failure detection quick; validity factor 0 lets
        // a replica take over however long it has been since it heard from its master.
        let flags = [
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
            "--cluster-replica-validity-factor", "0",
        ]
        servers = try (0..<masters * (1 + replicas)).map { _ in
            try RedisServer(arguments: flags, port: try Self.freeClusterPort())
        }
        let log = "\(directory)/create.log"
        let create = try ChildProcess(
            cli,
            ["--cluster", "create"] + servers.map { "127.0.0.1:\($0.port)" } + [
                "--cluster-replicas", String(replicas), "--cluster-yes",
            ], stdout: log, stderr: log)
        guard create.wait() == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "redis-cli --cluster create failed: \(text.suffix(800))")
        }
        try waitUntil("every node sees the cluster ok and every replica in sync", detail: { self.state() }) {
            servers.allSatisfy { server in
                let nodes = Self.nodes(server)
                return Self.info(server, "CLUSTER", "INFO")["cluster_state"] == "ok"
                    && nodes.count == servers.count
                    && nodes.filter { $0.isMaster && $0.slotCount > 0 }.count == masters
            }
                && servers.allSatisfy { server in
                    let r = Self.info(server, "INFO", "replication")
                    return r["role"] == "master" || r["master_link_status"] == "up"
                }
        }
    }

    deinit { stop() }

    /// A free port whose cluster bus port (port + 10000) is free too, and so at most 55535.
    static func freeClusterPort() throws -> Int {
        for _ in 0..<1_000 {
            let port = try RedisServer.freePort()
            if port + 10_000 <= 65_535 && !RedisServer.accepts(port: port + 10_000) { return port }
        }
        throw Failure(description: "no free port with a free cluster bus port")
    }

    private static let sharedCluster = Result { try RedisCluster() }

    /// One cluster for the whole test process, for tests that leave its topology alone (each uses
    /// a project of its own); its servers end with the process.
    public static func shared() throws -> RedisCluster { try sharedCluster.get() }

    public func stop() {
        for s in servers { s.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Seeds for the store's URL: two nodes, as a client would be configured.
    public var url: String {
        "redis+cluster://127.0.0.1:\(servers[0].port),127.0.0.1:\(servers[1].port)/"
    }

    /// The cluster as `server` sees it (empty when it does not answer).
    public static func nodes(_ server: RedisServer) -> [Node] {
        let reply = server.query(["CLUSTER", "NODES"])
        var out: [Node] = []
        // "\r\n" is one Character in Swift: split on every kind of line end.
        for line in reply.split(whereSeparator: \.isNewline) where !line.hasPrefix("$") {
            let f = line.split(separator: " ")
            guard f.count >= 8, let at = f[1].firstIndex(of: "@"), let colon = f[1][..<at].lastIndex(of: ":"),
                let port = Int(f[1][f[1].index(after: colon)..<at])
            else { continue }
            let flags = f[2].split(separator: ",")
            var slots: [ClosedRange<Int>] = []
            for s in f.dropFirst(8) where !s.hasPrefix("[") {
                let parts = s.split(separator: "-").compactMap {
                    Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                if parts.count == 2 {
                    slots.append(parts[0]...parts[1])
                } else if parts.count == 1 {
                    slots.append(parts[0]...parts[0])
                }
            }
            out.append(
                Node(
                    id: String(f[0]), port: port, isMaster: flags.contains("master"),
                    masterID: f[3] == "-" ? nil : String(f[3]), failed: flags.contains("fail"), slots: slots))
        }
        return out
    }

    /// What each node says of the cluster, for a failure message.
    func state() -> String {
        servers.map { s in
            "\n\(s.port): \(Self.info(s, "CLUSTER", "INFO")["cluster_state"] ?? "?") "
                + Self.nodes(s).map { "\($0.port)\($0.isMaster ? "M" : "r")\($0.failed ? "!" : "") \($0.slotCount)" }
                .joined(separator: ", ")
        }.joined()
    }

    /// `key:value` lines of an INFO-like reply.
    public static func info(_ server: RedisServer, _ args: String...) -> [String: String] {
        var out: [String: String] = [:]
        for line in server.query(args).split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            out[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return out
    }

    public func server(port: Int) -> RedisServer? { servers.first { $0.port == port } }

    /// The servers still running.
    public var live: [RedisServer] { servers.filter { $0.pid != nil } }

    /// The live masters, as a live node sees them.
    public func masters() -> [Node] {
        guard let any = live.first else { return [] }
        return Self.nodes(any).filter { $0.isMaster && !$0.failed && $0.slotCount > 0 }.sorted { $0.port < $1.port }
    }

    /// Kills a master with SIGKILL, as a crash would; returns it as the cluster knew it.
    @discardableResult
    public func crashMaster() throws -> Node {
        guard let master = masters().first, let server = server(port: master.port) else {
            throw Failure(description: "no master to kill")
        }
        server.crash()
        return master
    }

    /// Waits until every replica has everything its master wrote (replication is asynchronous): its
    /// link up and its offset at its master's. Before a master is killed, so that no write is lost.
    public func waitForReplication() throws {
        try waitUntil("every replica caught up with its master") {
            servers.allSatisfy { s in
                let r = Self.info(s, "INFO", "replication")
                guard r["role"] == "slave" else { return true }
                guard r["master_link_status"] == "up", let master = server(port: Int(r["master_port"] ?? "") ?? 0)
                else { return false }
                return r["slave_repl_offset"] == Self.info(master, "INFO", "replication")["master_repl_offset"]
            }
        }
    }

    /// Waits until a replica of `dead` serves its slots and every live node says the cluster is ok.
    public func waitForFailover(of dead: Node) throws {
        try waitUntil("a replica of \(dead.port) is promoted and the cluster is ok") {
            live.allSatisfy { server in
                let nodes = Self.nodes(server)
                let promoted = nodes.contains {
                    $0.isMaster && !$0.failed && $0.port != dead.port && $0.slots == dead.slots
                }
                return promoted && Self.info(server, "CLUSTER", "INFO")["cluster_state"] == "ok"
            }
        }
    }

    /// Starts moving `count` slots from one master to another (`redis-cli --cluster reshard`,
    /// which migrates key by key); the caller waits for the returned process.
    public func reshard(count: Int, from: Node, to: Node) throws -> ChildProcess {
        guard let cli = Self.cli else { throw Failure(description: "redis-cli is not installed") }
        let log = "\(directory)/reshard-\(UUID().uuidString).log"
        return try ChildProcess(
            cli,
            [
                "--cluster", "reshard", "127.0.0.1:\(from.port)", "--cluster-from", from.id, "--cluster-to", to.id,
                "--cluster-slots", String(count), "--cluster-yes", "--cluster-pipeline", "50",
            ], stdout: log, stderr: log)
    }

    /// Polls `condition` every 20 ms until it holds; fails after `limit` seconds (a safety net:
    /// on a slow machine things take longer, and nothing here depends on how long).
    public func waitUntil(
        _ what: String, limit: Double = 90, detail: () -> String = { "" }, _ condition: () -> Bool
    ) throws {
        let start = Date()
        while !condition() {
            if Date().timeIntervalSince(start) > limit {
                throw Failure(description: "the cluster did not reach '\(what)' within \(Int(limit)) s\(detail())")
            }
            usleep(20_000)
        }
    }
}
