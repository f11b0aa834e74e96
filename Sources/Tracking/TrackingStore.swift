import Foundation
import FsmlCore

/// Experiments and runs in MLflow's file-store layout under one root folder. fsml is the primary
/// reader; MLflow reads the same folder with `MLFLOW_ALLOW_FILE_STORE=true`.
///
/// Runs live in their own folders, so concurrent writers never share a file; creating an
/// experiment takes an exclusive lock so two processes asking for one name get one experiment.
public final class TrackingStore: Sendable {
    public let root: String
    static let trash = ".trash"
    static let aliasTagPrefix = "fsml.alias."

    public init(root: String) {
        let absolute = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        self.root = URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    // MARK: experiments

    /// Active experiments, oldest first. Folders that are not experiments are skipped.
    public func experiments() -> [ExperimentMeta] {
        subdirectories(root).filter { $0 != Self.trash }.compactMap { try? experiment(id: $0) }
            .filter { $0.lifecycleStage == "active" }
            .sorted { ($0.creationTime, $0.id) < ($1.creationTime, $1.id) }
    }

    public func experiment(id: String) throws -> ExperimentMeta {
        guard TrackingNames.isValidID(id) else { throw TrackingError("'\(id)' is not an experiment id") }
        let file = "\(root)/\(id)/meta.yaml"
        guard let text = try? FileSystem.readText(file) else { throw TrackingError("no experiment with id \(id)") }
        return try ExperimentMeta(yaml: text, file: file)
    }

    public func experiment(named name: String) -> ExperimentMeta? {
        experiments().first { $0.name == name }
    }

    /// The experiment with this name or id.
    public func experiment(_ nameOrID: String) throws -> ExperimentMeta {
        // A store that cannot be read (too many open files, not a directory) says so, rather than
        // seeming to hold no such experiment.
        _ = try Self.listing(root)
        if let e = experiment(named: nameOrID) { return e }
        if TrackingNames.isValidID(nameOrID), let e = try? experiment(id: nameOrID) { return e }
        let known = experiments().map(\.name)
        throw TrackingError(
            "no experiment named '\(nameOrID)' in \(root)"
                + (known.isEmpty ? "" : " (experiments: \(known.joined(separator: ", ")))"))
    }

    /// The experiment with this name, made when there is none.
    public func experimentCreatingIfNeeded(_ name: String) throws -> ExperimentMeta {
        try TrackingNames.validateName(name, what: "experiment name")
        if let e = experiment(named: name) { return e }
        return try withLock {
            if let e = experiment(named: name) { return e }
            let now = epochMillis()
            var id = TrackingNames.newExperimentID()
            while FileSystem.exists("\(root)/\(id)") { id = TrackingNames.newExperimentID() }
            let meta = ExperimentMeta(
                id: id, name: name, artifactLocation: "file://\(root)/\(id)", creationTime: now, lastUpdateTime: now)
            try FileSystem.createDirectory("\(root)/\(id)/tags")
            try FileSystem.writeAtomically(meta.yaml(), to: "\(root)/\(id)/meta.yaml")
            return meta
        }
    }

    public func experimentTags(_ e: ExperimentMeta) -> [String: String] {
        readKeyFiles("\(root)/\(e.id)/tags")
    }

    public func setExperimentTag(_ e: ExperimentMeta, key: String, value: String) throws {
        try TrackingNames.validateKey(key, what: "tag")
        try FileSystem.writeAtomically(value, to: "\(root)/\(e.id)/tags/\(key)")
    }

    // MARK: aliases

    /// Points `alias` of the run's experiment at the run: an experiment tag `fsml.alias.<alias>`,
    /// so MLflow shows it too. Replacing the file is atomic, so a follower sees the old or the new run.
    public func setAlias(_ alias: String, run: RunRecord) throws {
        try TrackingNames.validateKey(alias, what: "alias")
        if alias.contains("/") { throw TrackingError("alias '\(alias)' must not contain '/'") }
        try setExperimentTag(
            try experiment(id: run.meta.experimentID), key: Self.aliasTagPrefix + alias, value: run.id)
    }

    public func aliases(_ e: ExperimentMeta) -> [String: String] {
        var result: [String: String] = [:]
        for (k, v) in experimentTags(e) where k.hasPrefix(Self.aliasTagPrefix) {
            result[String(k.dropFirst(Self.aliasTagPrefix.count))] = v
        }
        return result
    }

    /// The run an alias points to.
    public func run(alias: String, experiment e: ExperimentMeta) throws -> RunRecord {
        guard let id = aliases(e)[alias] else {
            throw TrackingError("experiment '\(e.name)' has no alias '\(alias)'; run `fsml runs promote RUN`")
        }
        return try run(id: id, experimentID: e.id)
    }

    // MARK: runs

    func runDirectory(experimentID: String, runID: String) -> String { "\(root)/\(experimentID)/\(runID)" }

    public func run(id: String, experimentID: String) throws -> RunRecord {
        guard TrackingNames.isValidID(id, maxLength: 256) else { throw TrackingError("'\(id)' is not a run id") }
        let dir = runDirectory(experimentID: experimentID, runID: id)
        guard FileSystem.exists(dir + "/meta.yaml") else { throw TrackingError("no run \(id)") }
        return try settle(try load(directory: dir, experimentName: nil))
    }

    /// Runs of one experiment (or of all), newest first.
    public func runs(experiment e: ExperimentMeta? = nil, includeDeleted: Bool = false) -> [RunRecord] {
        let exps = e.map { [$0] } ?? experiments()
        var result: [RunRecord] = []
        for x in exps {
            for id in subdirectories("\(root)/\(x.id)") where TrackingNames.isValidID(id, maxLength: 256) {
                guard let r = try? load(directory: "\(root)/\(x.id)/\(id)", experimentName: x.name) else { continue }
                if !includeDeleted && r.meta.lifecycleStage != "active" { continue }
                result.append((try? settle(r)) ?? r)
            }
        }
        return result.sorted { ($0.meta.startTime, $0.id) > ($1.meta.startTime, $1.id) }
    }

    /// A run by id, id prefix (at least 4 characters) or run name, optionally within one experiment.
    public func findRun(_ reference: String, experiment: String? = nil) throws -> RunRecord {
        let scope = try experiment.map { try self.experiment($0) }
        if TrackingNames.isValidID(reference, maxLength: 256) {
            for e in scope.map({ [$0] }) ?? experiments()
            where FileSystem.exists(runDirectory(experimentID: e.id, runID: reference) + "/meta.yaml") {
                return try run(id: reference, experimentID: e.id)
            }
        }
        let all = runs(experiment: scope)
        var matches = all.filter { $0.name == reference }
        if matches.isEmpty && reference.count >= 4 { matches = all.filter { $0.id.hasPrefix(reference) } }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty { throw TrackingError("no run '\(reference)' in \(root)") }
        throw TrackingError(
            "'\(reference)' names \(matches.count) runs (\(matches.prefix(5).map { String($0.id.prefix(8)) }.joined(separator: ", "))); give a run id"
        )
    }

    func load(directory: String, experimentName: String?) throws -> RunRecord {
        let summaryFile = directory + "/" + RunSummary.fileName
        var record: RunRecord
        if let bytes = try? FileSystem.readBytes(summaryFile) {
            record = try RunSummary.parse(bytes, directory: directory, file: summaryFile)
            // meta.yaml is the truth for status and stage (MLflow may have changed them).
            if let text = try? FileSystem.readText(directory + "/meta.yaml"),
                let meta = try? RunMeta(yaml: text, file: directory + "/meta.yaml")
            {
                record.meta.status = meta.status
                record.meta.endTime = meta.endTime
                record.meta.lifecycleStage = meta.lifecycleStage
                record.meta.runName = meta.runName
            }
        } else {
            // A run MLflow wrote: read its folders.
            let metaFile = directory + "/meta.yaml"
            let meta = try RunMeta(yaml: try FileSystem.readText(metaFile), file: metaFile)
            record = RunRecord(meta: meta, experimentName: experimentName ?? "", directory: directory)
            record.params = readKeyFiles(directory + "/params")
            record.tags = readKeyFiles(directory + "/tags")
            for key in keyFiles(directory + "/metrics") {
                if let latest = MetricHistory.latest(try MetricHistory.read(directory + "/metrics/" + key)) {
                    record.metrics[key] = latest.value
                }
            }
        }
        if let experimentName { record.experimentName = experimentName }
        return record
    }

    /// A RUNNING run whose writer is gone is marked FAILED, once, by whoever notices.
    func settle(_ r: RunRecord) throws -> RunRecord {
        guard RunLiveness.writerIsGone(r) else { return r }
        var failed = r
        failed.meta.status = .failed
        failed.meta.endTime = r.heartbeat ?? epochMillis()
        failed.tags["fsml.failure"] =
            "the writing process (pid \(r.pid.map(String.init) ?? "?") on \(r.host ?? "?")) ended without ending the run"
        try FileSystem.writeAtomically(failed.tags["fsml.failure"]!, to: r.directory + "/tags/fsml.failure")
        try FileSystem.writeAtomically(failed.meta.yaml(), to: r.directory + "/meta.yaml")
        try FileSystem.writeAtomically(
            JSONText.render(RunSummary.json(failed)) + "\n", to: r.directory + "/" + RunSummary.fileName)
        return failed
    }

    /// Deleted runs wait in `<root>/.trash/fsml-deleted-runs/<run>`: a deleted experiment by MLflow's
    /// rules (its `.trash` holds deleted experiments), so MLflow lists them as deleted runs and
    /// nothing as malformed. The run's own experiment is kept in the tag `fsml.deleted_from`.
    static let trashExperimentID = "fsml-deleted-runs"
    var trashDirectory: String { "\(root)/\(Self.trash)/\(Self.trashExperimentID)" }

    /// Moves a run to the trash folder and marks it deleted.
    public func delete(_ r: RunRecord) throws {
        try withLock {
            if !FileSystem.exists(trashDirectory + "/meta.yaml") {
                let now = epochMillis()
                let meta = ExperimentMeta(
                    id: Self.trashExperimentID, name: "fsml deleted runs", artifactLocation: "file://\(trashDirectory)",
                    creationTime: now, lastUpdateTime: now, lifecycleStage: "deleted")
                try FileSystem.createDirectory(trashDirectory)
                try FileSystem.writeAtomically(meta.yaml(), to: trashDirectory + "/meta.yaml")
            }
            let target = "\(trashDirectory)/\(r.id)"
            try FileSystem.writeAtomically(r.meta.experimentID, to: r.directory + "/tags/fsml.deleted_from")
            guard rename(r.directory, target) == 0 else {
                throw TrackingError("cannot move \(r.directory) to \(target): \(String(cString: strerror(errno)))")
            }
            var meta = r.meta
            meta.lifecycleStage = "deleted"
            meta.experimentID = Self.trashExperimentID
            meta.artifactURI = "file://\(target)/artifacts"
            try FileSystem.writeAtomically(meta.yaml(), to: target + "/meta.yaml")
        }
    }

    /// Brings a deleted run back from the trash into its experiment.
    public func restore(runID: String) throws -> RunRecord {
        guard TrackingNames.isValidID(runID, maxLength: 256) else { throw TrackingError("'\(runID)' is not a run id") }
        let source = "\(trashDirectory)/\(runID)"
        guard FileSystem.exists(source + "/meta.yaml"),
            let experimentID = try? FileSystem.readText(source + "/tags/fsml.deleted_from")
        else { throw TrackingError("no run \(runID) in \(trashDirectory)") }
        let target = runDirectory(experimentID: experimentID, runID: runID)
        try withLock {
            guard FileSystem.exists("\(root)/\(experimentID)/meta.yaml") else {
                throw TrackingError("the run's experiment \(experimentID) no longer exists")
            }
            var meta = try RunMeta(yaml: try FileSystem.readText(source + "/meta.yaml"), file: source + "/meta.yaml")
            meta.lifecycleStage = "active"
            meta.experimentID = experimentID
            meta.artifactURI = "file://\(target)/artifacts"
            try FileSystem.writeAtomically(meta.yaml(), to: source + "/meta.yaml")
            guard rename(source, target) == 0 else { throw TrackingError("cannot move \(source) back to \(target)") }
            unlink(target + "/tags/fsml.deleted_from")
        }
        return try run(id: runID, experimentID: experimentID)
    }

    /// Logs metrics to an existing run (a backtest of a finished run), at `step`.
    public func logMetrics(_ r: RunRecord, _ metrics: [(String, Double)], step: Int = 0) throws {
        try withLock {
            var record = try load(directory: r.directory, experimentName: r.experimentName)
            let now = epochMillis()
            for (k, v) in metrics {
                try TrackingNames.validateKey(k, what: "metric")
                let w = try FileWriter(path: "\(r.directory)/metrics/\(k)", append: true)
                try w.write(MetricHistory.line(MetricPoint(timestamp: now, value: v, step: Int64(step))))
                try w.close()
                record.metrics[k] = v
            }
            try FileSystem.writeAtomically(
                JSONText.render(RunSummary.json(record)) + "\n", to: r.directory + "/" + RunSummary.fileName)
        }
    }

    /// Writes an artifact of an existing run; returns its path.
    public func writeArtifact(_ r: RunRecord, _ text: String, as name: String) throws -> String {
        try TrackingNames.validateKey(name, what: "artifact")
        let path = r.artifactsDirectory + "/" + name
        try FileSystem.writeAtomically(text, to: path)
        return path
    }

    public func metricHistory(_ r: RunRecord, key: String) throws -> [MetricPoint] {
        try TrackingNames.validateKey(key, what: "metric")
        let file = r.directory + "/metrics/" + key
        guard FileSystem.exists(file) else { return [] }
        return try MetricHistory.read(file)
    }

    public func metricKeys(_ r: RunRecord) -> [String] { keyFiles(r.directory + "/metrics").sorted() }

    // MARK: files

    func withLock<T>(_ body: () throws -> T) throws -> T {
        try FileSystem.createDirectory(root)
        let fd = open(root + "/.fsml.lock", O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else { throw TrackingError("cannot open \(root)/.fsml.lock") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    func subdirectories(_ dir: String) -> [String] {
        ((try? Self.listing(dir)) ?? []).filter { FileSystem.isDirectory(dir + "/" + $0) }
    }

    /// The names in a directory; none when it does not exist; the system's reason otherwise.
    static func listing(_ dir: String) throws -> [String] {
        guard let handle = opendir(dir) else {
            let code = errno
            if code == ENOENT { return [] }
            throw TrackingError("cannot read \(dir): \(String(cString: strerror(code)))")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Key files under a folder; keys with `/` are nested folders. Temporary files are not keys.
    func keyFiles(_ dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var keys: [String] = []
        while let p = e.nextObject() as? String {
            if !FileSystem.isDirectory(dir + "/" + p) && !p.contains(".tmp-") { keys.append(p) }
        }
        return keys
    }

    func readKeyFiles(_ dir: String) -> [String: String] {
        var d: [String: String] = [:]
        for k in keyFiles(dir) { d[k] = try? FileSystem.readText(dir + "/" + k) }
        return d
    }
}

/// One logged metric value.
public struct MetricPoint: Sendable, Equatable {
    public var timestamp: Int64
    public var value: Double
    public var step: Int64
}

/// The metric files: `<epoch_ms> <value> <step>` per line (MLflow also reads 2 or 5 fields).
public enum MetricHistory {
    public static func line(_ p: MetricPoint) -> String {
        let v: String = p.value.isNaN ? "nan" : p.value.isInfinite ? (p.value > 0 ? "inf" : "-inf") : "\(p.value)"
        return "\(p.timestamp) \(v) \(p.step)\n"
    }

    public static func parse(_ text: String, file: String) throws -> [MetricPoint] {
        var points: [MetricPoint] = []
        for (n, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: " ")
            guard f.count == 2 || f.count == 3 || f.count == 5, let ts = Int64(f[0]), let value = Double(f[1]),
                f.count == 2 || Int64(f[2]) != nil
            else { throw TrackingError("\(file):\(n + 1): malformed metric line") }
            points.append(MetricPoint(timestamp: ts, value: value, step: f.count == 3 ? Int64(f[2])! : 0))
        }
        return points
    }

    static func read(_ file: String) throws -> [MetricPoint] { try parse(try FileSystem.readText(file), file: file) }

    /// MLflow's "latest": the highest step, then the latest time, then the largest value.
    public static func latest(_ points: [MetricPoint]) -> MetricPoint? {
        points.max { ($0.step, $0.timestamp, $0.value) < ($1.step, $1.timestamp, $1.value) }
    }
}
