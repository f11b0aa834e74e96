import Foundation
import Synchronization

/// A real redis-server for one test, on a free loopback port, with no persistence. It is started
/// under a small shell that also stops it when the test process goes away, so that a crashed test
/// run leaves no server behind.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    public let password: String?
    private var process: ChildProcess?
    public let directory: String

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Extra redis-server flags, kept across restarts (cluster mode, say).
    private let arguments: [String]

    /// `port`: where it listens (default: a free port the kernel picks).
    public init(password: String? = nil, arguments: [String] = [], port: Int? = nil) throws {
        self.password = password
        self.arguments = arguments
        self.port = try port ?? Self.freePort()
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent("fsml-redis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit { stop() }

    public var url: String { "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)/0" }

    public static var binary: String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        where FileManager.default.isExecutableFile(atPath: "\(dir)/redis-server") {
            return "\(dir)/redis-server"
        }
        return nil
    }

    public func start() throws {
        guard let binary = Self.binary else {
            throw Unavailable(description: "redis-server is not installed (make setup installs it)")
        }
        var args = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory,
            "--loglevel", "warning", "--daemonize", "no",
        ]
        if let password { args += ["--requirepass", password] }
        args += arguments
        let watchdog = """
            "$0" "$@" & r=$!
            trap 'kill $r 2>/dev/null; wait $r; exit 0' TERM INT
            while kill -0 \(getpid()) 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.5 & wait $!; done
            kill $r 2>/dev/null; wait $r
            """
        process = try ChildProcess("/bin/sh", ["-c", watchdog, binary] + args)
        // Ready when it accepts connections.
        for _ in 0..<200 {
            if Self.accepts(port: port) {
                pid = query(["INFO", "server"]).split(separator: "\r\n").first { $0.hasPrefix("process_id:") }
                    .flatMap { pid_t($0.dropFirst("process_id:".count)) }
                return
            }
            usleep(25_000)
        }
        stop()
        throw Unavailable(description: "redis-server did not start on port \(port)")
    }

    public func stop() {
        guard let p = process else { return }
        process = nil
        // Ask Redis itself first: a signal to the watchdog shell alone has left servers running.
        shutDown()
        p.signal(SIGTERM)
        p.wait()
        // The port is free again once the server is gone.
        for _ in 0..<200 where Self.accepts(port: port) { usleep(25_000) }
    }

    /// The redis-server process (not its watchdog shell), once started.
    public private(set) var pid: pid_t?

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a hung host.
    public func pause() { if let pid { kill(pid, SIGSTOP) } }

    public func resume() { if let pid { kill(pid, SIGCONT) } }

    /// Kills the server outright (SIGKILL), as a crash would; its watchdog ends with it.
    public func crash() {
        guard let pid, let p = process else { return }
        kill(pid, SIGCONT)
        kill(pid, SIGKILL)
        p.wait()
        process = nil
        self.pid = nil
        for _ in 0..<200 where Self.accepts(port: port) { usleep(25_000) }
    }

    /// Sends one command over the Redis protocol and returns the raw reply text ("" on failure).
    public func query(_ args: [String]) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = Self.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return "" }
        func command(_ args: [String]) -> String {
            "*\(args.count)\r\n" + args.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
        }
        let text = (password.map { command(["AUTH", $0]) } ?? "") + command(args)
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        // One read is the whole reply for the short replies asked for here (INFO, DBSIZE).
        let n = read(fd, &buffer, buffer.count)
        if n > 0 { out += buffer[0..<n] }
        if password != nil, n > 0, out.starts(with: Array("+OK\r\n".utf8)) && out.count == 5 {
            let m = read(fd, &buffer, buffer.count)
            if m > 0 { out += buffer[0..<m] }
        }
        // A long bulk reply (CLUSTER NODES) may take more reads: until all its bytes are in.
        func bulkComplete() -> Bool {
            let start = password != nil && out.starts(with: Array("+OK\r\n".utf8)) ? 5 : 0
            guard out.count > start, out[start] == UInt8(ascii: "$"),
                let crlf = out[start...].firstIndex(of: 13),
                let length = Int(String(decoding: out[(start + 1)..<crlf], as: UTF8.self))
            else { return true }
            return length < 0 || out.count >= crlf + 2 + length + 2
        }
        while !bulkComplete() {
            let m = read(fd, &buffer, buffer.count)
            guard m > 0 else { break }
            out += buffer[0..<m]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The number of keys in database `db`.
    public func keyCount(db: Int = 0) -> Int {
        let info = query(["INFO", "keyspace"])
        guard let line = info.split(separator: "\r\n").first(where: { $0.hasPrefix("db\(db):keys=") }) else { return 0 }
        return Int(line.dropFirst("db\(db):keys=".count).prefix { $0.isNumber }) ?? 0
    }

    /// Sends SHUTDOWN NOSAVE over the Redis protocol (with AUTH when there is a password).
    public func shutDown() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = Self.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return }
        func command(_ args: [String]) -> String {
            "*\(args.count)\r\n" + args.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
        }
        let text = (password.map { command(["AUTH", $0]) } ?? "") + command(["SHUTDOWN", "NOSAVE"])
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(fd, &buffer, buffer.count) > 0 {}  // until Redis closes the connection
    }

    /// Stops and starts the server on the same port: every key is gone and loaded scripts with it.
    public func restart() throws {
        stop()
        try start()
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Ports handed out in this process: never handed out twice, so that a server a test killed
    /// is not replaced at its address by another test's server while clients still know it.
    private static let handedOut = Mutex<Set<Int>>([])

    /// A port nobody listens on now (the kernel's pick for port 0), and none handed out before.
    public static func freePort() throws -> Int {
        for _ in 0..<64 {
            let port = try kernelPort()
            if handedOut.withLock({ $0.insert(port).inserted }) { return port }
        }
        throw Unavailable(description: "no loopback port that was not handed out before")
    }

    private static func kernelPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(description: "no socket") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw Unavailable(description: "cannot bind a loopback port") }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: actual.sin_port))
    }
}
