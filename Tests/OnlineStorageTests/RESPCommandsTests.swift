import FeatureCore
import Testing

@testable import OnlineStorage

/// Commands written by hand in RESP2, byte for byte.
@Suite struct RESPCommandsTests {
    @Test func argumentsAsBulkStringsInOneArray() {
        var c = RESPCommands()
        c.begin(arguments: 4)
        c.argument(Array("SET".utf8))
        c.argument(prefix: Array("p:user:".utf8), "ü1")
        c.argument(decimal: -12)
        c.argument(decimal: 0)
        c.begin(arguments: 1)
        c.argument([])
        let text = "*4\r\n$3\r\nSET\r\n$10\r\np:user:ü1\r\n$3\r\n-12\r\n$1\r\n0\r\n*1\r\n$0\r\n\r\n"
        #expect(c.bytes == Array(text.utf8))
        #expect(c.count == 2)
    }

    @Test func aStoredValueIsItsTimePrefixThenItsState() {
        var c = RESPCommands()
        c.argument(storedValue: [7, 8], lastTime: -3)
        #expect(c.bytes == Array("$10\r\n".utf8) + StoredValue.encode(lastTime: -3, blob: [7, 8]) + [13, 10])
    }

    @Test(arguments: [0, 9, 10, 99, 100, -1, -10, 1_234_567, Int.max, Int.min])
    func digitCountIsTheLengthOfTheDecimalText(n: Int) {
        #expect(RESPCommands.digitCount(n) == String(n).utf8.count)
        var c = RESPCommands()
        c.argument(decimal: n)
        #expect(c.bytes == Array("$\(String(n).utf8.count)\r\n\(n)\r\n".utf8))
    }
}
