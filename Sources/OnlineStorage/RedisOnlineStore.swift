import FeatureCore
import FsmlCore

/// Entity states in Redis: key `<project>:<entity>:<entity key>`, value `StoredValue` bytes, a
/// Redis TTL of the entity's TTL. Writes go through a Lua script that keeps a stored state whose
/// event time is later than the one offered, several hundred keys per call, pipelined; reads are
/// one MGET. Thread-safe (one connection, used under a lock).
public final class RedisOnlineStore: OnlineStore, @unchecked Sendable {
    let connection: RedisConnection
    let project: String
    let entities: [EntitySpec]
    /// Where the store is, for another client of the same server (the server's event loops).
    public let endpoint: RedisEndpoint
    private let lock = NSLockLite()
    private var scriptSHA: String?
    /// `redisKey` of each entity kind without its key.
    private let prefixes: [[UInt8]]
    static let keysPerScriptCall = 256

    /// Event time wins, unless what is stored cannot be a state (`StoredValue.isPlausible`: a time
    /// prefix within ±2^58 µs, so a first byte from 0x7c to 0x83, then the state format version).
    static let writeScript = """
        local written = 0
        for i = 1, #KEYS do
          local value = ARGV[2 * i - 1]
          local current = redis.call('GET', KEYS[i])
          local plausible = current and string.len(current) >= 9 and string.byte(current, 1) >= 124
            and string.byte(current, 1) <= 131 and string.byte(current, 9) == \(StateCodec.version)
          if (not plausible) or string.sub(current, 1, 8) <= string.sub(value, 1, 8) then
            redis.call('SET', KEYS[i], value, 'PX', ARGV[2 * i])
            written = written + 1
          end
        end
        return written
        """

    public init(
        host: String, port: Int, db: Int, password: String?, project: String, entities: [EntitySpec], timeoutMillis: Int
    ) throws {
        connection = RedisConnection(host: host, port: port, db: db, password: password, timeoutMillis: timeoutMillis)
        endpoint = RedisEndpoint(host: host, port: port, db: db, password: password)
        self.project = project
        self.entities = entities
        prefixes = entities.map { Array("\(project):\($0.name):".utf8) }
        try ping()
    }

    public var description: String { "redis://\(connection.address)" }

    public func redisKey(_ entity: Int, _ key: String) -> [UInt8] { prefixes[entity] + key.utf8 }

    /// Per entity kind, what its keys start with (`redisKey` with the entity key left off), for a
    /// client that writes keys straight into its command buffer.
    public var keyPrefixes: [[UInt8]] { prefixes }

    public func ping() throws {
        try lock.withLock {
            guard case .status("PONG") = try connection.roundTrip([["PING"]])[0] else {
                throw OnlineStoreError("redis at \(connection.address): PING did not answer PONG")
            }
        }
    }

    public func expire(watermark: Micros, entities: [Int]) throws {}

    var clockKey: String { "\(project):_clock" }

    public func writeClock(_ t: Micros) throws {
        let reply = try lock.withLock { try connection.roundTrip([["SET", clockKey, String(t)]])[0] }
        if case .error(let e) = reply { throw OnlineStoreError("redis at \(connection.address): \(e)") }
    }

    public func readClock() throws -> Micros? {
        let reply = try lock.withLock {
            try connection.roundTripBytes([[Array("GET".utf8), Array(clockKey.utf8)]], retryStale: true)[0]
        }
        switch reply {
        case .bulk(let b): return Micros(String(decoding: b, as: UTF8.self)).flatMap(StoredValue.plausibleClock)
        case .error(let e): throw OnlineStoreError("redis at \(connection.address): \(e)")
        default: return nil
        }
    }

    func markerKey(_ name: String) -> String { "\(project):_marker:\(name)" }

    public func readMarker(_ name: String) throws -> String? {
        let reply = try lock.withLock {
            try connection.roundTripBytes([[Array("GET".utf8), Array(markerKey(name).utf8)]], retryStale: true)[0]
        }
        switch reply {
        case .bulk(let b): return String(decoding: b, as: UTF8.self)
        case .error(let e): throw OnlineStoreError("redis at \(connection.address): \(e)")
        default: return nil
        }
    }

    public func writeMarker(_ name: String, token: String) throws {
        let reply = try lock.withLock { try connection.roundTrip([["SET", markerKey(name), token]])[0] }
        if case .error(let e) = reply { throw OnlineStoreError("redis at \(connection.address): \(e)") }
    }

    private func loadScript() throws -> String {
        if let scriptSHA { return scriptSHA }
        guard case .bulk(let sha) = try connection.roundTrip([["SCRIPT", "LOAD", Self.writeScript]])[0] else {
            throw OnlineStoreError("redis at \(connection.address): SCRIPT LOAD failed")
        }
        let text = String(decoding: sha, as: UTF8.self)
        scriptSHA = text
        return text
    }

    /// Records of one key need no merging first (a dictionary of every key of the batch): the
    /// script takes keys in order, so a later record meets the earlier one as the stored state and
    /// event time decides between them as a merge would.
    public func write(_ records: [StateRecord]) throws { try write(packed: PackedStates(records)) }

    public func write(packed: PackedStates) throws {
        guard !packed.isEmpty else { return }
        try lock.withLock {
            var attempt = 0
            while true {
                let sha = Array(try loadScript().utf8)
                let replies = try connection.roundTrip(scriptCalls(packed, sha: sha))
                if let error = replies.compactMap({ if case .error(let e) = $0 { return e } else { return nil } }).first
                {
                    // A restarted Redis forgets scripts: load it again, once.
                    if error.hasPrefix("NOSCRIPT") && attempt == 0 {
                        scriptSHA = nil
                        attempt += 1
                        continue
                    }
                    throw OnlineStoreError("redis at \(connection.address): \(error)")
                }
                return
            }
        }
    }

    /// The write script's calls for these states, `keysPerScriptCall` keys each.
    private func scriptCalls(_ packed: PackedStates, sha: [UInt8]) -> RESPCommands {
        let entries = packed.entries
        var commands = RESPCommands(
            capacity: packed.bytes.count + entries.count * 48 + 64 * (entries.count / Self.keysPerScriptCall + 1))
        packed.bytes.withUnsafeBytes { all in
            entries.withUnsafeBufferPointer { entries in
                var start = 0
                while start < entries.count {
                    let chunk = entries[start..<min(start + Self.keysPerScriptCall, entries.count)]
                    commands.begin(arguments: 3 + 3 * chunk.count)
                    commands.argument(Self.evalsha)
                    commands.argument(sha)
                    commands.argument(decimal: chunk.count)
                    for e in chunk {
                        commands.argument(
                            prefix: prefixes[Int(e.entity)],
                            UnsafeRawBufferPointer(rebasing: all[e.offset..<e.offset + Int(e.keyLength)]))
                    }
                    for e in chunk {
                        let blob = e.offset + Int(e.keyLength)
                        commands.argument(
                            storedValue: UnsafeRawBufferPointer(rebasing: all[blob..<blob + e.blobLength]),
                            lastTime: e.lastTime)
                        commands.argument(decimal: Int(max(1, entities[Int(e.entity)].ttl / 1000)))
                    }
                    start += Self.keysPerScriptCall
                }
            }
        }
        return commands
    }

    private static let evalsha = Array("EVALSHA".utf8)

    public func read(_ keys: [(entity: Int, key: String)]) throws -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        let command = [Array("MGET".utf8)] + keys.map { redisKey($0.entity, $0.key) }
        let reply = try lock.withLock { try connection.roundTripBytes([command], retryStale: true)[0] }
        guard case .array(let items) = reply, items.count == keys.count else {
            if case .error(let e) = reply { throw OnlineStoreError("redis at \(connection.address): \(e)") }
            throw OnlineStoreError("redis at \(connection.address): unexpected MGET reply")
        }
        return items.map { if case .bulk(let b) = $0 { return b } else { return nil } }
    }

    public func keys(entity: Int) throws -> [String] {
        let prefix = "\(project):\(entities[entity].name):"
        var out: [String] = []
        try lock.withLock {
            try scan(match: Self.globEscaped(prefix) + "*") { names in
                out += names.map { String(decoding: $0.dropFirst(prefix.utf8.count), as: UTF8.self) }
            }
        }
        return out
    }

    /// Deletes this project's keys (tests and benchmarks start clean).
    public func clear() throws {
        try lock.withLock {
            try scan(match: Self.globEscaped("\(project):") + "*") { names in
                _ = try connection.roundTripBytes([[Array("DEL".utf8)] + names])
            }
        }
    }

    /// Calls `body` with each non-empty batch of key names that match (under the lock).
    private func scan(match pattern: String, _ body: ([[UInt8]]) throws -> Void) throws {
        var cursor = "0"
        repeat {
            guard
                case .array(let parts) = try connection.roundTrip([["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"]]
                )[0],
                parts.count == 2, case .bulk(let next) = parts[0], case .array(let keys) = parts[1]
            else { throw OnlineStoreError("redis at \(connection.address): unexpected SCAN reply") }
            let names = keys.compactMap { if case .bulk(let k) = $0 { return k } else { return nil } }
            if !names.isEmpty { try body(names) }
            cursor = String(decoding: next, as: UTF8.self)
        } while cursor != "0"
    }

    /// A literal for a Redis glob pattern.
    static func globEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            if "*?[]\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

/// A Redis server's address, database and password (never logged); `readOnly` for a cluster
/// replica that serves reads (a connection to it sends READONLY first).
public struct RedisEndpoint: Sendable {
    public let host: String
    public let port: Int
    public let db: Int
    public let password: String?
    public var readOnly = false
}
