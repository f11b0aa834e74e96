import Testing

@testable import Serving

/// The Date header's text for known instants (RFC 9110 IMF-fixdate).
@Suite struct HTTPDateTests {
    @Test func knownInstants() {
        #expect(HTTPDate.format(second: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(second: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(second: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.format(second: 4_102_444_799) == "Thu, 31 Dec 2099 23:59:59 GMT")
    }
}
