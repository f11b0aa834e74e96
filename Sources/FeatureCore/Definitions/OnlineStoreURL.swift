import FsmlCore

/// Where the online store lives: `redis://[:password@]host:port/db`,
/// `redis+cluster://[:password@]host:port[,host:port...]/[?replicas=read]` (a Redis Cluster: any
/// of its nodes, the rest are found from them) or `sqlite:PATH`. The password may also come from
/// FSML_REDIS_PASSWORD; `description` never shows it.
public enum OnlineStoreURL: Sendable, Equatable, CustomStringConvertible {
    case redis(host: String, port: Int, db: Int, password: String?)
    case redisCluster(nodes: [Node], password: String?, readFromReplicas: Bool)
    case sqlite(path: String)

    public struct Node: Sendable, Hashable, CustomStringConvertible {
        public let host: String
        public let port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { "\(host):\(port)" }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws(ParseError) -> OnlineStoreURL {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw ParseError(description: "'\(text)' names no file (use sqlite:PATH)") }
            return .sqlite(path: path)
        }
        if text.hasPrefix("redis+cluster://") { return try parseCluster(text) }
        guard text.hasPrefix("redis://") else {
            throw ParseError(
                description:
                    "'\(redact(text))' is not an online store URL (use redis://[:password@]host:port/db, redis+cluster://host:port[,host:port...]/ or sqlite:PATH)"
            )
        }
        var rest = Substring(text.dropFirst("redis://".count))
        let password = takePassword(&rest)
        var db = 0
        if let slash = rest.firstIndex(of: "/") {
            let dbText = rest[rest.index(after: slash)...]
            if !dbText.isEmpty {
                guard let n = Int(dbText), n >= 0 else {
                    throw ParseError(description: "'\(dbText)' is not a Redis database number")
                }
                db = n
            }
            rest = rest[..<slash]
        }
        let node = try parseNode(rest)
        return .redis(host: node.host, port: node.port, db: db, password: password)
    }

    /// `redis+cluster://[:password@]h1:p1,h2:p2/[0][?replicas=read]`: a cluster has database 0 only.
    private static func parseCluster(_ text: String) throws(ParseError) -> OnlineStoreURL {
        var rest = Substring(text.dropFirst("redis+cluster://".count))
        // The password first: it may hold '?' or '/', and no error may repeat it.
        let password = takePassword(&rest)
        var readFromReplicas = false
        if let q = rest.firstIndex(of: "?") {
            for option in rest[rest.index(after: q)...].split(separator: "&") {
                switch option {
                case "replicas=read": readFromReplicas = true
                case "replicas=no": readFromReplicas = false
                default:
                    throw ParseError(
                        description: "'\(option)' is not a Redis Cluster option (use ?replicas=read or ?replicas=no)")
                }
            }
            rest = rest[..<q]
        }
        if let slash = rest.firstIndex(of: "/") {
            let dbText = rest[rest.index(after: slash)...]
            guard dbText.isEmpty || dbText == "0" else {
                throw ParseError(description: "a Redis Cluster has database 0 only, not '\(dbText)'")
            }
            rest = rest[..<slash]
        }
        var nodes: [Node] = []
        for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
            nodes.append(try parseNode(part))
        }
        return .redisCluster(nodes: nodes, password: password, readFromReplicas: readFromReplicas)
    }

    /// `host[:port]` (6379 when no port is given).
    private static func parseNode(_ rest: Substring) throws(ParseError) -> Node {
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw ParseError(description: "'\(rest[rest.index(after: colon)...])' is not a port")
            }
            port = p
        }
        guard !host.isEmpty else { throw ParseError(description: "the Redis URL names no host") }
        return Node(host: host, port: port)
    }

    /// Takes `[user]:password@` off the front; the password from FSML_REDIS_PASSWORD when none.
    private static func takePassword(_ rest: inout Substring) -> String? {
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let auth = rest[..<at]
            rest = rest[rest.index(after: at)...]
            // redis://:pass@host or redis://user:pass@host (the user is ignored: Redis 5 style AUTH).
            if let colon = auth.firstIndex(of: ":") {
                password = String(auth[auth.index(after: colon)...])
            } else {
                password = String(auth)
            }
            password = password.map(percentDecode)
        }
        if password == nil || password == "" {
            password = getenvString("FSML_REDIS_PASSWORD")
        }
        return password
    }

    public var description: String {
        switch self {
        case .redis(let host, let port, let db, let password):
            return "redis://\(password == nil ? "" : ":***@")\(host):\(port)/\(db)"
        case .redisCluster(let nodes, let password, let replicas):
            return "redis+cluster://\(password == nil ? "" : ":***@")"
                + nodes.map(\.description).joined(separator: ",") + "/" + (replicas ? "?replicas=read" : "")
        case .sqlite(let path):
            return "sqlite:\(path)"
        }
    }

    /// The URL with any password replaced, for messages about text that failed to parse.
    public static func redact(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.lastIndex(of: "@"), at > scheme.upperBound else {
            return text
        }
        return String(text[..<scheme.upperBound]) + "***" + String(text[at...])
    }

    private static func percentDecode(_ s: String) -> String {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count,
                let v = UInt8(String(decoding: b[i + 1...i + 2], as: UTF8.self), radix: 16)
            {
                out.append(v)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
