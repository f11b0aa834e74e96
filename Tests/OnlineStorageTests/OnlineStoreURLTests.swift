import FeatureCore
import Testing

@Suite struct OnlineStoreURLTests {
    @Test func clusterURLsNameSeedsAndOptions() throws {
        #expect(
            try OnlineStoreURL.parse("redis+cluster://10.0.0.1:7000,10.0.0.2/")
                == .redisCluster(
                    nodes: [.init(host: "10.0.0.1", port: 7000), .init(host: "10.0.0.2", port: 6379)], password: nil,
                    readFromReplicas: false))
        let url = try OnlineStoreURL.parse("redis+cluster://:p%40ss@h:7000/0?replicas=read")
        #expect(url == .redisCluster(nodes: [.init(host: "h", port: 7000)], password: "p@ss", readFromReplicas: true))
        #expect(url.description == "redis+cluster://:***@h:7000/?replicas=read")
        #expect(try OnlineStoreURL.parse("redis+cluster://h:1").description == "redis+cluster://h:1/")
    }

    @Test func clusterURLErrorsSayWhatIsWrong() throws {
        func message(_ text: String) -> String {
            do {
                _ = try OnlineStoreURL.parse(text)
                return ""
            } catch { return error.description }
        }
        #expect(message("redis+cluster://h:1/3").contains("database 0 only"))
        #expect(message("redis+cluster://h:1,/").contains("names no host"))
        #expect(message("redis+cluster://h:x/").contains("'x' is not a port"))
        #expect(message("redis+cluster://h:1/?replicas=maybe").contains("'replicas=maybe'"))
        #expect(message("redis+cluster://:secret@h:1/?bad").contains("'bad'"))
        #expect(!message("rediss://:secret@h:1/").contains("secret"))
        // A password holding '?' or '/' is the password, never an option nor part of a message.
        #expect(
            try OnlineStoreURL.parse("redis+cluster://:se?c/ret@h:7000/")
                == .redisCluster(nodes: [.init(host: "h", port: 7000)], password: "se?c/ret", readFromReplicas: false))
        #expect(!message("redis+cluster://:se?cret@h:1/?bad").contains("cret"))
    }
}
