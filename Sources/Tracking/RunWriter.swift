import Foundation
import FsmlCore

/// An active run: logs params, metrics, tags and artifacts into its own folder and keeps a
/// heartbeat, until `end`. Every file is written atomically or appended a whole line at a time.
public final class RunWriter: @unchecked Sendable {
    public let store: TrackingStore
    public let experiment: ExperimentMeta
    private var record: RunRecord
    private let lock = NSLockLite()
    private var heartbeatThread: Thread?
    private var ended = false
    private var steps: [String: Int] = [:]
    public static let heartbeatSeconds = 15.0

    public var id: String { record.id }
    public var name: String { record.name }
    public var directory: String { record.directory }
    public var artifactsDirectory: String { record.artifactsDirectory }
    public var snapshot: RunRecord { lock.withLock { record } }

    /// Starts a run named `name` (a generated name when nil) in the experiment.
    public init(store: TrackingStore, experiment: ExperimentMeta, name: String?, tags: [String: String] = [:]) throws {
        self.store = store
        self.experiment = experiment
        let id = TrackingNames.newRunID()
        let runName = name ?? "run-\(id.prefix(8))"
        try TrackingNames.validateName(runName, what: "run name")
        let dir = store.runDirectory(experimentID: experiment.id, runID: id)
        let user = getenvString("USER") ?? getenvString("LOGNAME") ?? "unknown"
        let meta = RunMeta(
            runID: id, runName: runName, experimentID: experiment.id, artifactURI: "file://\(dir)/artifacts",
            startTime: epochMillis(), userID: user)
        record = RunRecord(meta: meta, experimentName: experiment.name, directory: dir)
        record.pid = getpid()
        record.pidStart = RunLiveness.processStartTicks(getpid())
        record.host = hostName()
        record.heartbeat = meta.startTime
        for sub in ["metrics", "params", "tags", "artifacts"] { try FileSystem.createDirectory(dir + "/" + sub) }
        // The summary, which names the writing process, goes first: a reader never sees a RUNNING
        // run without a pid to check, even if this process dies right after.
        try writeSummary()
        try FileSystem.writeAtomically(meta.yaml(), to: dir + "/meta.yaml")
        var all = [
            "mlflow.runName": runName, "mlflow.user": user, "mlflow.source.name": "fsml",
            "mlflow.source.type": "LOCAL",
        ]
        all.merge(tags) { $1 }
        try setTags(all)
        startHeartbeat()
    }

    public func logParams(_ params: [(String, String)]) throws {
        try lock.withLock {
            for (k, v) in params {
                try TrackingNames.validateKey(k, what: "param")
                if v.count > 6000 { throw TrackingError("param '\(k)' is longer than 6000 characters") }
                if let old = record.params[k], old != v {
                    throw TrackingError("param '\(k)' was logged as '\(old)'; a run's params do not change")
                }
                try FileSystem.writeAtomically(v, to: "\(record.directory)/params/\(k)")
                record.params[k] = v
            }
            try writeSummary()
        }
    }

    public func setTags(_ tags: [String: String]) throws {
        try lock.withLock {
            for (k, v) in tags.sorted(by: { $0.key < $1.key }) {
                try TrackingNames.validateKey(k, what: "tag")
                try FileSystem.writeAtomically(String(v.prefix(8000)), to: "\(record.directory)/tags/\(k)")
                record.tags[k] = v
            }
            try writeSummary()
        }
    }

    /// Appends values at one step. `summarize: false` leaves the summary for a later write (for
    /// per-iteration curves, which would otherwise rewrite it every iteration).
    public func logMetrics(_ values: [(String, Double)], step: Int, summarize: Bool = true) throws {
        try lock.withLock {
            let now = epochMillis()
            for (k, v) in values {
                try TrackingNames.validateKey(k, what: "metric")
                let w = try FileWriter(path: "\(record.directory)/metrics/\(k)", append: true)
                try w.write(MetricHistory.line(MetricPoint(timestamp: now, value: v, step: Int64(step))))
                try w.close()
                // The summary keeps MLflow's "latest": the value at the highest step.
                if let lastStep = steps[k], lastStep > step { continue }
                record.metrics[k] = v
                steps[k] = step
            }
            if summarize { try writeSummary() }
        }
    }

    /// Appends a whole curve (per-iteration values) to one metric in one write.
    public func logMetricHistory(_ key: String, _ points: [(step: Int, value: Double)]) throws {
        guard !points.isEmpty else { return }
        try lock.withLock {
            try TrackingNames.validateKey(key, what: "metric")
            let now = epochMillis()
            let text = points.map {
                MetricHistory.line(MetricPoint(timestamp: now, value: $0.value, step: Int64($0.step)))
            }.joined()
            let w = try FileWriter(path: "\(record.directory)/metrics/\(key)", append: true)
            try w.write(text)
            try w.close()
            let last = points.max { $0.step < $1.step }!
            if (steps[key] ?? Int.min) <= last.step {
                record.metrics[key] = last.value
                steps[key] = last.step
            }
            try writeSummary()
        }
    }

    /// Copies a file into the run's artifacts, under `name` (which may hold folders).
    public func logArtifact(from path: String, as name: String) throws {
        try TrackingNames.validateKey(name, what: "artifact")
        try FileSystem.writeAtomically(try FileSystem.readBytes(path), to: "\(artifactsDirectory)/\(name)")
    }

    public func writeArtifact(_ text: String, as name: String) throws -> String {
        try TrackingNames.validateKey(name, what: "artifact")
        let path = "\(artifactsDirectory)/\(name)"
        try FileSystem.writeAtomically(text, to: path)
        return path
    }

    /// Ends the run: status and end time in meta.yaml, the final summary, no more heartbeats.
    public func end(_ status: RunStatus = .finished) throws {
        try lock.withLock {
            guard !ended else { return }
            ended = true
            record.meta.status = status
            record.meta.endTime = epochMillis()
            try FileSystem.writeAtomically(record.meta.yaml(), to: record.directory + "/meta.yaml")
            try writeSummary()
        }
    }

    private func writeSummary() throws {
        try FileSystem.writeAtomically(
            JSONText.render(RunSummary.json(record)) + "\n", to: record.directory + "/" + RunSummary.fileName)
    }

    private func startHeartbeat() {
        let thread = Thread { [weak self] in
            while true {
                sleepNanos(UInt64(RunWriter.heartbeatSeconds * 1e9))
                guard let self else { return }
                let done: Bool = self.lock.withLock {
                    if self.ended { return true }
                    self.record.heartbeat = epochMillis()
                    try? self.writeSummary()
                    return false
                }
                if done { return }
            }
        }
        thread.name = "fsml-run-heartbeat"
        thread.start()
        heartbeatThread = thread
    }
}
