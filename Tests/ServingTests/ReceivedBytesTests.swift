import NIOCore
import Testing

@testable import Serving

/// A connection whose every read ends inside a request keeps only the unparsed tail, however long
/// it lives (a ByteBuffer alone would keep every byte it was ever sent).
@Suite struct ReceivedBytesTests {
    @Test func readsThatEndInsideARequestKeepOnlyTheTail() throws {
        var parser = HTTPRequestParser(maxHead: 200, maxBody: 1000)
        var received: ByteBuffer?
        var requests = 0
        var largest = 0
        let first = Array("GET /healthz HTTP/1.1\r\n\r\nGET /hea".utf8)
        let next = Array("lthz HTTP/1.1\r\n\r\nGET /hea".utf8)
        for i in 0..<20_000 {
            var chunk = ByteBuffer(bytes: i == 0 ? first : next)
            ReceivedBytes.append(&chunk, to: &received)
            while received != nil, let step = try parser.next(&received!) {
                if case .request = step { requests += 1 }
            }
            ReceivedBytes.settle(&received)
            largest = max(largest, received?.capacity ?? 0)
        }
        #expect(requests == 20_000)
        #expect(received?.readableBytes == 8)
        // 20,000 reads of 26 bytes: half a megabyte if nothing were given back.
        #expect(largest <= 1024)
    }

    @Test func anEmptyBufferIsGivenBack() {
        var received: ByteBuffer?
        var chunk = ByteBuffer(string: "abc")
        ReceivedBytes.append(&chunk, to: &received)
        received!.moveReaderIndex(forwardBy: 3)
        ReceivedBytes.settle(&received)
        #expect(received == nil)
    }
}
