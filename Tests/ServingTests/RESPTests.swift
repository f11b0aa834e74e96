import NIOCore
import Testing

@testable import Serving

/// RESP2 replies parsed from whatever bytes have arrived: whole replies, a reply cut anywhere
/// (nothing yet), and bytes that are not RESP (an error, never a crash).
@Suite struct RESPTests {
    static func parse(_ text: String) throws -> (RESP.Reply, Int)? {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { p in try RESP.parse(p, from: 0) }
    }

    @Test func everyReplyKindOfAnMGETAndItsSetup() throws {
        let mget = "*3\r\n$3\r\nabc\r\n$-1\r\n$0\r\n\r\n"
        let (reply, end) = try #require(try Self.parse(mget))
        #expect(reply == .array([.bulk(Array("abc".utf8)), .null, .bulk([])]))
        #expect(end == mget.utf8.count)
        #expect(try Self.parse("+OK\r\n")?.0 == .status("OK"))
        #expect(try Self.parse("-WRONGPASS invalid\r\n")?.0 == .error("WRONGPASS invalid"))
        #expect(try Self.parse(":-42\r\n")?.0 == .integer(-42))
        #expect(try Self.parse("*-1\r\n")?.0 == .null)
        // Binary bulk bytes, CR and LF among them, are taken by their length.
        #expect(try Self.parse("$4\r\n\r\n\r\n\r\n")?.0 == .bulk([13, 10, 13, 10]))
    }

    @Test func aReplyCutAnywhereIsNotYetAReply() throws {
        let whole = "*2\r\n$5\r\nhello\r\n:7\r\n"
        for cut in 0..<whole.utf8.count {
            let prefix = String(decoding: Array(whole.utf8)[0..<cut], as: UTF8.self)
            #expect(try Self.parse(prefix) == nil, "cut at \(cut)")
        }
        #expect(try Self.parse(whole)?.1 == whole.utf8.count)
    }

    @Test func repliesFollowOneAnother() throws {
        let bytes = Array("+OK\r\n:1\r\n$1\r\nx\r\n".utf8)
        var replies: [RESP.Reply] = []
        var at = 0
        try bytes.withUnsafeBytes { p in
            while let (reply, next) = try RESP.parse(p, from: at) {
                replies.append(reply)
                at = next
            }
        }
        #expect(replies == [.status("OK"), .integer(1), .bulk([120])])
        #expect(at == bytes.count)
    }

    @Test func bytesThatAreNotRESPAreAnError() {
        for text in ["?what\r\n", ":12x\r\n", "$3\r\nabcd\r\n", "*1\r\n!\r\n", "$99999999999\r\n"] {
            #expect(throws: RESP.ProtocolError.self, "\(text.debugDescription)") { try Self.parse(text) }
        }
    }

    @Test func aCommandIsAnArrayOfBulkStrings() {
        var out = ByteBuffer()
        RESP.encode([Array("MGET".utf8), Array("a:b".utf8), []], into: &out)
        #expect(String(buffer: out) == "*3\r\n$4\r\nMGET\r\n$3\r\na:b\r\n$0\r\n\r\n")
    }

    /// MGET's keys written as prefix and key, without joining them first: the same bytes.
    @Test func mgetWritesEachKeyAsItsPrefixThenItsKey() {
        var out = ByteBuffer()
        let keys: [(prefix: [UInt8], key: String)] = [(Array("p:user:".utf8), "u1"), (Array("p:pair:".utf8), "é:x")]
        RESP.encodeMGET(keys, count: 2, into: &out)
        #expect(String(buffer: out) == "*3\r\n$4\r\nMGET\r\n$9\r\np:user:u1\r\n$11\r\np:pair:é:x\r\n")
    }
}
