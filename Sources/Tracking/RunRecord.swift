import Foundation
import FsmlCore

/// One run as the reader sees it: its record, its params, the latest value of every metric and
/// its tags. Listing builds these from the small summary file each run keeps, so it never opens
/// the metric files.
public struct RunRecord: Sendable {
    public var meta: RunMeta
    public var experimentName: String
    public var params: [String: String] = [:]
    public var metrics: [String: Double] = [:]
    public var tags: [String: String] = [:]
    /// Who is writing the run, while it runs: process id, its start time in clock ticks since
    /// boot (so a reused pid is not mistaken for the writer), host, last heartbeat (epoch ms).
    public var pid: Int32?
    public var pidStart: UInt64?
    public var host: String?
    public var heartbeat: Int64?
    public var directory: String

    public var id: String { meta.runID }
    public var name: String { meta.runName }
    public var artifactsDirectory: String { directory + "/artifacts" }
}

/// The per-run summary file, `fsml-run.json` beside `meta.yaml`: everything `runs list` and
/// `compare runs` show, rewritten atomically whenever the run changes.
enum RunSummary {
    static let fileName = "fsml-run.json"

    static func json(_ r: RunRecord) -> JSONValue {
        func object(_ d: [String: String]) -> JSONValue {
            .object(d.keys.sorted().map { ($0, .string(d[$0]!)) })
        }
        var fields: [(String, JSONValue)] = [
            ("format", .string("fsml-run-summary")), ("version", .int(1)),
            ("run_id", .string(r.meta.runID)), ("run_name", .string(r.meta.runName)),
            ("experiment_id", .string(r.meta.experimentID)), ("experiment_name", .string(r.experimentName)),
            ("status", .string(r.meta.status.name)), ("lifecycle_stage", .string(r.meta.lifecycleStage)),
            ("user_id", .string(r.meta.userID)), ("start_time", .int(Int(r.meta.startTime))),
            ("end_time", r.meta.endTime.map { .int(Int($0)) } ?? .null),
            ("params", object(r.params)),
            ("metrics", .object(r.metrics.keys.sorted().map { ($0, .number(r.metrics[$0]!)) })),
            ("tags", object(r.tags)),
        ]
        if let pid = r.pid { fields.append(("pid", .int(Int(pid)))) }
        if let s = r.pidStart { fields.append(("pid_start", .int(Int(s)))) }
        if let h = r.host { fields.append(("host", .string(h))) }
        if let b = r.heartbeat { fields.append(("heartbeat", .int(Int(b)))) }
        return .object(fields)
    }

    static func parse(_ bytes: [UInt8], directory: String, file: String) throws -> RunRecord {
        let node: JSONNode
        do { node = try JSONParser.parse(bytes) } catch { throw TrackingError("\(file): \(error)") }
        guard node["format"]?.string == "fsml-run-summary", let id = node["run_id"]?.string,
            let experimentID = node["experiment_id"]?.string
        else { throw TrackingError("\(file): not an fsml run summary") }
        func strings(_ key: String) -> [String: String] {
            Dictionary(
                (node[key]?.object ?? []).compactMap { k, v in v.string.map { (k, $0) } },
                uniquingKeysWith: { a, _ in a })
        }
        let meta = RunMeta(
            runID: id, runName: node["run_name"]?.string ?? "", experimentID: experimentID,
            artifactURI: "file://" + directory + "/artifacts", startTime: Int64(node["start_time"]?.int ?? 0),
            endTime: node["end_time"]?.int.map { Int64($0) },
            status: RunStatus(name: node["status"]?.string ?? "") ?? .running,
            lifecycleStage: node["lifecycle_stage"]?.string ?? "active", userID: node["user_id"]?.string ?? "")
        var r = RunRecord(meta: meta, experimentName: node["experiment_name"]?.string ?? "", directory: directory)
        r.params = strings("params")
        r.tags = strings("tags")
        for (k, v) in node["metrics"]?.object ?? [] { r.metrics[k] = v.double ?? .nan }
        r.pid = node["pid"]?.int.flatMap { Int32(exactly: $0) }
        r.pidStart = node["pid_start"]?.int.map { UInt64($0) }
        r.host = node["host"]?.string
        r.heartbeat = node["heartbeat"]?.int.map { Int64($0) }
        return r
    }
}

/// Whether the process that writes a RUNNING run is still there.
public enum RunLiveness {
    /// A run written on another host is taken as dead when its heartbeat is older than this.
    public static let staleAfterMillis: Int64 = 120_000

    public static func writerIsGone(_ r: RunRecord, now: Int64 = epochMillis(), host: String = hostName()) -> Bool {
        guard r.meta.status == .running else { return false }
        if let pid = r.pid, r.host == host {
            guard processExists(pid) else { return true }
            if let expected = r.pidStart, let actual = processStartTicks(pid), actual != expected { return true }
            return false
        }
        return now - (r.heartbeat ?? r.meta.startTime) > staleAfterMillis
    }

    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
    public static func processStartTicks(_ pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

public func epochMillis() -> Int64 { wallClockMicros() / 1000 }

public func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
