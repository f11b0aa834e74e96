import CHiredis
import FeatureCore
import Foundation
import FsmlCore

/// One hiredis connection, used by one caller at a time. Commands are pipelined: append many,
/// then read the replies. A connection that fails is closed; the next command reconnects.
final class RedisConnection {
    let host: String
    let port: Int
    let db: Int
    private let password: String?
    private let timeoutMillis: Int
    /// Sent READONLY on connecting: a cluster replica then serves reads of its master's slots.
    let readOnly: Bool
    private var context: UnsafeMutablePointer<redisContext>?

    /// A reply, copied out of hiredis' memory.
    typealias Reply = RedisReply

    init(host: String, port: Int, db: Int, password: String?, timeoutMillis: Int, readOnly: Bool = false) {
        self.readOnly = readOnly
        self.host = host
        self.port = port
        self.db = db
        self.password = password
        self.timeoutMillis = timeoutMillis
    }

    deinit { disconnect() }

    var address: String { "\(host):\(port)/\(db)" }

    func disconnect() {
        if let context { redisFree(context) }
        context = nil
    }

    private func connect() throws -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        var tv = timeval(tv_sec: timeoutMillis / 1000, tv_usec: Int((timeoutMillis % 1000) * 1000))
        guard let ctx = redisConnectWithTimeout(host, Int32(port), tv) else {
            throw OnlineStoreError("redis at \(address): cannot allocate a connection")
        }
        if ctx.pointee.err != 0 {
            let message = Self.errorText(ctx)
            redisFree(ctx)
            throw OnlineStoreError("redis at \(address): \(message)")
        }
        redisSetTimeout(ctx, tv)
        tv = timeval()
        context = ctx
        // The password is sent, never logged.
        if let password, !password.isEmpty {
            let reply = try roundTrip([["AUTH", password]])[0]
            if case .error(let e) = reply {
                disconnect()
                throw OnlineStoreError("redis at \(address): authentication failed (\(e))")
            }
        }
        if db != 0, case .error(let e) = try roundTrip([["SELECT", String(db)]])[0] {
            disconnect()
            throw OnlineStoreError("redis at \(address): SELECT \(db) failed (\(e))")
        }
        if readOnly, case .error(let e) = try roundTrip([["READONLY"]])[0] {
            disconnect()
            throw OnlineStoreError("redis at \(address): READONLY failed (\(e))")
        }
        return ctx
    }

    private static func errorText(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Sends every command, then reads every reply: one network round trip for all of them.
    func roundTrip(_ commands: [[String]]) throws -> [Reply] {
        try roundTripBytes(commands.map { $0.map { Array($0.utf8) } })
    }

    /// With `retryStale`, a failure on a connection made before this call (Redis restarted since)
    /// is retried once on a new one: for idempotent commands (reads).
    func roundTripBytes(_ commands: [[[UInt8]]], retryStale: Bool) throws -> [Reply] {
        let reused = context != nil
        do {
            return try roundTripBytes(commands)
        } catch  where retryStale && reused {
            return try roundTripBytes(commands)
        }
    }

    /// Sends commands already written in RESP (`RESPCommands`), then reads their replies.
    func roundTrip(_ commands: RESPCommands) throws -> [Reply] {
        try send(commands)
        return try receive(commands.count)
    }

    /// Writes commands to the socket without reading any reply: a cluster client sends to every
    /// node before it reads from any, so that the nodes work at the same time. `receive` then reads
    /// exactly `commands.count` replies.
    func send(_ commands: RESPCommands) throws {
        let ctx = try connect()
        let rc = commands.bytes.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) {
                redisAppendFormattedCommand(ctx, $0, p.count)
            }
        }
        guard rc == REDIS_OK else {
            let message = Self.errorText(ctx)
            disconnect()
            throw OnlineStoreError("redis at \(address): \(message)")
        }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(ctx, &done) == REDIS_OK else {
                let message = Self.errorText(ctx)
                disconnect()
                throw OnlineStoreError("redis at \(address): \(message.isEmpty ? "connection lost" : message)")
            }
        }
    }

    /// Reads `count` replies to commands sent before.
    func receive(_ count: Int) throws -> [Reply] {
        guard let context else { throw OnlineStoreError("redis at \(address): connection lost") }
        return try replies(count, context)
    }

    func roundTripBytes(_ commands: [[[UInt8]]]) throws -> [Reply] {
        let ctx = try connect()
        for command in commands {
            let argc = Int32(command.count)
            var pointers: [UnsafeMutablePointer<CChar>?] = []
            var lengths: [Int] = []
            for arg in command {
                let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(arg.count, 1))
                arg.withUnsafeBytes {
                    if let base = $0.baseAddress {
                        UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: arg.count)
                    }
                }
                pointers.append(p)
                lengths.append(arg.count)
            }
            let rc = pointers.withUnsafeMutableBufferPointer { argv in
                argv.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: command.count) {
                    argvPointer in
                    lengths.withUnsafeBufferPointer { redisAppendCommandArgv(ctx, argc, argvPointer, $0.baseAddress) }
                }
            }
            for p in pointers { p?.deallocate() }
            guard rc == REDIS_OK else {
                let message = Self.errorText(ctx)
                disconnect()
                throw OnlineStoreError("redis at \(address): \(message)")
            }
        }
        return try replies(commands.count, ctx)
    }

    private func replies(_ count: Int, _ ctx: UnsafeMutablePointer<redisContext>) throws -> [Reply] {
        var replies: [Reply] = []
        replies.reserveCapacity(count)
        for _ in 0..<count {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(ctx, &raw) == REDIS_OK, let raw else {
                let message = Self.errorText(ctx)
                disconnect()
                throw OnlineStoreError("redis at \(address): \(message.isEmpty ? "connection lost" : message)")
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.copy(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    private static func copy(_ r: UnsafeMutablePointer<redisReply>) -> Reply {
        let p = r.pointee
        func bytes() -> [UInt8] {
            guard let s = p.str else { return [] }
            return Array(UnsafeRawBufferPointer(start: s, count: Int(p.len)))
        }
        switch p.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(p.integer)
        case REDIS_REPLY_STRING: return .bulk(bytes())
        case REDIS_REPLY_ARRAY:
            var items: [Reply] = []
            for i in 0..<Int(p.elements) {
                if let e = p.element[i] { items.append(copy(e)) } else { items.append(.null) }
            }
            return .array(items)
        default: return .null
        }
    }
}

/// A Redis reply (RESP2), whichever client read it.
public indirect enum RedisReply: Equatable, Sendable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RedisReply])
}
