import NIOCore
import OnlineStorage

/// RESP2, the Redis protocol, as the server's event-loop client needs it: commands encoded as
/// arrays of bulk strings, replies parsed from whatever bytes have arrived (nil until one is whole).
enum RESP {
    typealias Reply = RedisReply

    struct ProtocolError: Error, CustomStringConvertible {
        let description: String
    }

    /// Appends one command.
    static func encode(_ arguments: [[UInt8]], into out: inout ByteBuffer) {
        header("*", arguments.count, into: &out)
        for a in arguments {
            header("$", a.count, into: &out)
            out.writeBytes(a)
            out.writeStaticString("\r\n")
        }
    }

    /// Appends `MGET` of keys given as a prefix and the rest, without joining them first.
    static func encodeMGET(
        _ keys: some Sequence<(prefix: [UInt8], key: String)>, count: Int, into out: inout ByteBuffer
    ) {
        header("*", count + 1, into: &out)
        out.writeStaticString("$4\r\nMGET\r\n")
        for (prefix, key) in keys {
            header("$", prefix.count + key.utf8.count, into: &out)
            out.writeBytes(prefix)
            out.writeString(key)
            out.writeStaticString("\r\n")
        }
    }

    /// `*3\r\n`, `$12\r\n`: a type byte, a count, CRLF.
    private static func header(_ type: StaticString, _ n: Int, into out: inout ByteBuffer) {
        out.writeStaticString(type)
        out.writeString(String(n))
        out.writeStaticString("\r\n")
    }

    /// The reply starting at `start` and the index after it; nil when its bytes have not all arrived.
    static func parse(_ p: UnsafeRawBufferPointer, from start: Int) throws(ProtocolError) -> (Reply, Int)? {
        guard start < p.count else { return nil }
        guard let (line, next) = Self.line(p, from: start + 1) else { return nil }
        switch p[start] {
        case UInt8(ascii: "+"): return (.status(String(decoding: line, as: UTF8.self)), next)
        case UInt8(ascii: "-"): return (.error(String(decoding: line, as: UTF8.self)), next)
        case UInt8(ascii: ":"): return (.integer(try number(line)), next)
        case UInt8(ascii: "$"):
            let n = try number(line)
            if n < 0 { return (.null, next) }
            guard n <= 512 << 20 else { throw ProtocolError(description: "a bulk reply of \(n) bytes") }
            let end = next + Int(n)
            guard end + 2 <= p.count else { return nil }
            guard p[end] == 13, p[end + 1] == 10 else { throw ProtocolError(description: "a bulk reply not ended") }
            return (.bulk(Array(p[next..<end])), end + 2)
        case UInt8(ascii: "*"):
            let n = try number(line)
            if n < 0 { return (.null, next) }
            guard n <= 1 << 20 else { throw ProtocolError(description: "an array reply of \(n) items") }
            var items: [Reply] = []
            items.reserveCapacity(Int(n))
            var i = next
            for _ in 0..<n {
                guard let (item, after) = try parse(p, from: i) else { return nil }
                items.append(item)
                i = after
            }
            return (.array(items), i)
        default:
            throw ProtocolError(description: "an unknown reply type \(p[start])")
        }
    }

    private static func line(_ p: UnsafeRawBufferPointer, from start: Int) -> (Slice<UnsafeRawBufferPointer>, Int)? {
        var i = start
        while i + 1 < p.count {
            if p[i] == 13 && p[i + 1] == 10 { return (p[start..<i], i + 2) }
            i += 1
        }
        return nil
    }

    private static func number(_ digits: Slice<UnsafeRawBufferPointer>) throws(ProtocolError) -> Int64 {
        guard let n = Int64(String(decoding: digits, as: UTF8.self)) else {
            throw ProtocolError(description: "a number that is not one")
        }
        return n
    }
}
