import FeatureCore
import FsmlCore

/// Redis commands written straight into one buffer in RESP2 (arrays of bulk strings), for a
/// writer that sends thousands of keys and values at once: each argument is copied once, from
/// where it already is, instead of into an array of its own and then again by hiredis.
struct RESPCommands {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// Starts a command of `arguments` arguments; the caller then appends exactly that many.
    mutating func begin(arguments: Int) {
        count += 1
        header(UInt8(ascii: "*"), arguments)
    }

    /// Appends commands written elsewhere (a cluster client regroups per-slot commands per node).
    mutating func append(_ other: RESPCommands) {
        bytes += other.bytes
        count += other.count
    }

    mutating func argument(_ a: [UInt8]) {
        header(UInt8(ascii: "$"), a.count)
        bytes += a
        end()
    }

    /// A key written as its prefix and the rest, without joining them first.
    mutating func argument(prefix: [UInt8], _ key: String) {
        header(UInt8(ascii: "$"), prefix.count + key.utf8.count)
        bytes += prefix
        bytes += key.utf8
        end()
    }

    /// A key written as its prefix and the rest's bytes.
    mutating func argument(prefix: [UInt8], _ key: UnsafeRawBufferPointer) {
        header(UInt8(ascii: "$"), prefix.count + key.count)
        bytes += prefix
        bytes += key
        end()
    }

    mutating func argument(decimal n: Int) {
        header(UInt8(ascii: "$"), Self.digitCount(n))
        appendDecimal(n)
        end()
    }

    /// A `StoredValue` (the ordered time prefix, then the state), written in place.
    mutating func argument(storedValue blob: [UInt8], lastTime: Micros) {
        header(UInt8(ascii: "$"), 8 + blob.count)
        StoredValue.appendPrefix(lastTime, to: &bytes)
        bytes += blob
        end()
    }

    /// A `StoredValue` from the state's bytes where they are.
    mutating func argument(storedValue blob: UnsafeRawBufferPointer, lastTime: Micros) {
        header(UInt8(ascii: "$"), 8 + blob.count)
        StoredValue.appendPrefix(lastTime, to: &bytes)
        bytes += blob
        end()
    }

    private mutating func header(_ type: UInt8, _ n: Int) {
        bytes.append(type)
        appendDecimal(n)
        end()
    }

    private mutating func appendDecimal(_ n: Int) {
        if n < 0 { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        var m = n.magnitude
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(m % 10))
            m /= 10
        } while m > 0
        bytes[start...].reverse()
    }

    private mutating func end() {
        bytes.append(13)
        bytes.append(10)
    }

    /// How many bytes `n` takes in decimal, its sign included.
    static func digitCount(_ n: Int) -> Int {
        var m = n.magnitude
        var count = n < 0 ? 2 : 1
        while m >= 10 {
            m /= 10
            count += 1
        }
        return count
    }
}
