import Foundation
import Testing

@testable import FsmlCore

@Suite struct PromiseTests {
    @Test func waitGetsWhatAnotherThreadFulfills() throws {
        let promise = Promise<[Int]>()
        let thread = Thread { promise.fulfill(.success(Array(0..<1000))) }
        thread.start()
        #expect(try promise.wait() == Array(0..<1000))
        // A second wait gets the same result.
        #expect(try promise.wait().count == 1000)
    }

    @Test func waitThrowsTheErrorItWasFulfilledWith() {
        struct Boom: Error, Equatable {}
        let promise = Promise<Int>()
        promise.fulfill(.failure(Boom()))
        #expect(throws: Boom.self) { try promise.wait() }
    }
}
