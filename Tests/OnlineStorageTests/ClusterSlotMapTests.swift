import Testing

@testable import OnlineStorage

@Suite struct ClusterSlotMapTests {
    static func node(_ host: String, _ port: Int64, _ id: String) -> RedisReply {
        .array([.bulk(Array(host.utf8)), .integer(port), .bulk(Array(id.utf8))])
    }

    /// CLUSTER SLOTS of three masters with a replica each, as Redis 7 answers it.
    static let reply = RedisReply.array([
        .array([.integer(0), .integer(5460), node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7003, "d")]),
        .array([.integer(5461), .integer(10922), node("127.0.0.1", 7001, "b"), node("127.0.0.1", 7004, "e")]),
        .array([.integer(10923), .integer(16383), node("", 7002, "c"), node("127.0.0.1", 7005, "f")]),
    ])

    static func address(_ port: Int) -> ClusterNodeAddress { ClusterNodeAddress(host: "127.0.0.1", port: port) }

    @Test func routesEverySlotToItsMasterAndReplicas() throws {
        let map = try ClusterSlotMap.parse(clusterSlots: Self.reply, askedHost: "127.0.0.1")
        #expect(map.coversEverySlot)
        #expect(map.master(slot: 0) == Self.address(7000) && map.master(slot: 5460) == Self.address(7000))
        #expect(map.master(slot: 5461) == Self.address(7001))
        // A node that does not know its own address is the one asked.
        #expect(map.master(slot: 16383) == Self.address(7002))
        #expect(map.master(slot: HashSlot.of("foo")) == Self.address(7002))
        #expect(map.replicas(slot: 6000) == [Self.address(7004)])
        #expect(map.masters == [Self.address(7000), Self.address(7001), Self.address(7002)])
        #expect(map.masterIDs == ["a", "b", "c"])
    }

    @Test func aMapWithHolesSaysSo() {
        let map = ClusterSlotMap(shards: [.init(start: 0, end: 100, master: Self.address(1))])
        #expect(!map.coversEverySlot)
        #expect(map.master(slot: 101) == nil && map.replicas(slot: 101).isEmpty)
    }

    @Test func aRepliesThatAreNotMapsAreErrorsThatSaySo() {
        #expect(throws: ClusterSlotMap.ParseError.self) {
            try ClusterSlotMap.parse(
                clusterSlots: .error("ERR This instance has cluster support disabled"), askedHost: "h")
        }
        #expect(throws: ClusterSlotMap.ParseError.self) {
            try ClusterSlotMap.parse(clusterSlots: .array([.array([.integer(9), .integer(3)])]), askedHost: "h")
        }
    }

    @Test func aPromotedReplicaIsSeenAndAMigrationIsNot() throws {
        let before = try ClusterSlotMap.parse(clusterSlots: Self.reply, askedHost: "127.0.0.1")
        var shards = before.shards
        // Slots moved between masters: no new master.
        shards[0].end = 5000
        shards.append(.init(start: 5001, end: 5460, master: Self.address(7001), masterID: "b"))
        #expect(!ClusterSlotMap(shards: shards).promotedSince(before))
        // The replica of 7000 took over.
        shards[0].master = Self.address(7003)
        shards[0].masterID = "d"
        #expect(ClusterSlotMap(shards: shards).promotedSince(before))
        // The first map read is no failover.
        #expect(!before.promotedSince(ClusterSlotMap(shards: [])))
    }

    @Test func redirectsAreParsed() {
        #expect(ClusterRedirect.parse("MOVED 3999 127.0.0.1:6381") == .moved(slot: 3999, to: Self.address(6381)))
        #expect(
            ClusterRedirect.parse("ASK 3999 ::1:6381")
                == .ask(slot: 3999, to: ClusterNodeAddress(host: "::1", port: 6381)))
        #expect(
            ClusterRedirect.parse("MOVED 12 :7002") == .moved(slot: 12, to: ClusterNodeAddress(host: "", port: 7002)))
        #expect(ClusterRedirect.parse("TRYAGAIN Multiple keys request during rehashing of slot") == nil)
        #expect(ClusterRedirect.parse("MOVED 99999 h:1") == nil)
        #expect(ClusterRedirect.parse("ERR wrong") == nil)
    }
}
