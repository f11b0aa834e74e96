import FeatureCore

/// A cluster node's address as clients reach it: the address a store URL names, so that seeds
/// and the nodes the cluster reports are one type.
public typealias ClusterNodeAddress = OnlineStoreURL.Node

extension OnlineStoreURL.Node: Comparable {
    public static func < (a: Self, b: Self) -> Bool { (a.host, a.port) < (b.host, b.port) }

    /// `host:port` as Redis writes it in MOVED and ASK replies (the host may be an IPv6 literal).
    public static func parse(_ text: Substring) -> ClusterNodeAddress? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65_535).contains(port)
        else { return nil }
        return ClusterNodeAddress(host: String(text[..<colon]), port: port)
    }
}

/// Which node serves each of the 16384 slots, from `CLUSTER SLOTS`: one master per slot range
/// and its replicas. A pure value, so that routing is decided apart from any connection and
/// tested without a cluster; the store swaps in a new map when the cluster tells it the old one
/// is stale (MOVED, a node gone).
public struct ClusterSlotMap: Sendable, Equatable {
    public struct Shard: Sendable, Equatable {
        public var start: Int
        public var end: Int
        public var master: ClusterNodeAddress
        /// The master's node id (empty when the reply had none): a new id at a range means a failover.
        public var masterID: String
        public var replicas: [ClusterNodeAddress]

        public init(
            start: Int, end: Int, master: ClusterNodeAddress, masterID: String = "", replicas: [ClusterNodeAddress] = []
        ) {
            self.start = start
            self.end = end
            self.master = master
            self.masterID = masterID
            self.replicas = replicas
        }
    }

    public let shards: [Shard]
    /// Per slot, its shard's index, or -1 for a slot no node serves.
    private let owner: [Int16]

    public init(shards: [Shard]) {
        self.shards = shards
        var owner = [Int16](repeating: -1, count: HashSlot.count)
        for (i, s) in shards.enumerated() where s.start <= s.end && s.start >= 0 && s.end < HashSlot.count {
            for slot in s.start...s.end { owner[slot] = Int16(i) }
        }
        self.owner = owner
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The map a `CLUSTER SLOTS` reply describes. `askedHost` stands for a node that does not know
    /// its own address (it answers "" or "?"): the host the reply came from.
    public static func parse(clusterSlots reply: RedisReply, askedHost: String) throws(ParseError) -> ClusterSlotMap {
        guard case .array(let ranges) = reply else {
            if case .error(let e) = reply { throw ParseError(description: "CLUSTER SLOTS failed: \(e)") }
            throw ParseError(description: "CLUSTER SLOTS did not answer an array")
        }
        func node(_ r: RedisReply) throws(ParseError) -> (ClusterNodeAddress, String) {
            guard case .array(let parts) = r, parts.count >= 2, case .bulk(let h) = parts[0],
                case .integer(let port) = parts[1], (1...65_535).contains(port)
            else { throw ParseError(description: "CLUSTER SLOTS names a node without a host and port") }
            var host = String(decoding: h, as: UTF8.self)
            if host.isEmpty || host == "?" { host = askedHost }
            var id = ""
            if parts.count >= 3, case .bulk(let b) = parts[2] { id = String(decoding: b, as: UTF8.self) }
            return (ClusterNodeAddress(host: host, port: Int(port)), id)
        }
        var shards: [Shard] = []
        for range in ranges {
            guard case .array(let parts) = range, parts.count >= 3, case .integer(let start) = parts[0],
                case .integer(let end) = parts[1], 0 <= start, start <= end, end < HashSlot.count
            else { throw ParseError(description: "CLUSTER SLOTS holds a slot range that is not one") }
            let (master, id) = try node(parts[2])
            var replicas: [ClusterNodeAddress] = []
            for r in parts.dropFirst(3) { replicas.append(try node(r).0) }
            shards.append(Shard(start: Int(start), end: Int(end), master: master, masterID: id, replicas: replicas))
        }
        return ClusterSlotMap(shards: shards)
    }

    public func master(slot: Int) -> ClusterNodeAddress? {
        let i = owner[slot]
        return i < 0 ? nil : shards[Int(i)].master
    }

    public func replicas(slot: Int) -> [ClusterNodeAddress] {
        let i = owner[slot]
        return i < 0 ? [] : shards[Int(i)].replicas
    }

    /// Every master, each once, in address order (SCAN visits each of them).
    public var masters: [ClusterNodeAddress] { Array(Set(shards.map(\.master))).sorted() }

    /// The ids of the masters (empty ids left out).
    public var masterIDs: Set<String> { Set(shards.map(\.masterID).filter { !$0.isEmpty }) }

    /// Whether every slot has a master: a map with holes is from a cluster still forming or failing.
    public var coversEverySlot: Bool { !owner.contains(-1) }

    /// Whether going from `old` to this map made a node master that was not one: a failover (or a
    /// node added), after which writes the old master acknowledged but had not yet sent to its
    /// replica may be gone (Redis replicates asynchronously). Slots moved between masters that
    /// both were masters lose nothing (MIGRATE is synchronous).
    public func promotedSince(_ old: ClusterSlotMap) -> Bool {
        let before = old.masterIDs
        guard !before.isEmpty else { return false }
        return !masterIDs.isSubset(of: before)
    }

    public static func == (a: Self, b: Self) -> Bool { a.shards == b.shards }
}

/// A cluster's answer that the key lives elsewhere: MOVED (for good; the map is stale) or ASK
/// (for this command only, during a slot's migration; sent there after ASKING).
public enum ClusterRedirect: Equatable, Sendable {
    case moved(slot: Int, to: ClusterNodeAddress)
    case ask(slot: Int, to: ClusterNodeAddress)

    /// The redirect an error reply says, or nil when it is another error.
    public static func parse(_ error: String) -> ClusterRedirect? {
        let parts = error.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]), (0..<HashSlot.count).contains(slot),
            let to = ClusterNodeAddress.parse(parts[2])
        else { return nil }
        switch parts[0] {
        case "MOVED": return .moved(slot: slot, to: to)
        case "ASK": return .ask(slot: slot, to: to)
        default: return nil
        }
    }
}
