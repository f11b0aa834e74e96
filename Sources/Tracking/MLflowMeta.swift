import Foundation

/// MLflow's run status codes (`RunStatus` in its protos).
public enum RunStatus: Int, Sendable, CaseIterable {
    case running = 1, scheduled = 2, finished = 3, failed = 4, killed = 5

    public var name: String {
        switch self {
        case .running: "RUNNING"
        case .scheduled: "SCHEDULED"
        case .finished: "FINISHED"
        case .failed: "FAILED"
        case .killed: "KILLED"
        }
    }

    public init?(name: String) {
        guard let s = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = s
    }
}

/// The experiment record, `<root>/<experiment_id>/meta.yaml`.
public struct ExperimentMeta: Sendable, Equatable {
    public var id: String
    public var name: String
    public var artifactLocation: String
    public var creationTime: Int64
    public var lastUpdateTime: Int64
    public var lifecycleStage: String = "active"

    public func yaml() -> String {
        MetaYAML.render([
            ("artifact_location", .text(artifactLocation)),
            ("creation_time", .int(creationTime)),
            ("experiment_id", .text(id)),
            ("last_update_time", .int(lastUpdateTime)),
            ("lifecycle_stage", .text(lifecycleStage)),
            ("name", .text(name)),
        ])
    }

    public init(
        id: String, name: String, artifactLocation: String, creationTime: Int64, lastUpdateTime: Int64,
        lifecycleStage: String = "active"
    ) {
        self.id = id
        self.name = name
        self.artifactLocation = artifactLocation
        self.creationTime = creationTime
        self.lastUpdateTime = lastUpdateTime
        self.lifecycleStage = lifecycleStage
    }

    public init(yaml: String, file: String) throws {
        let m = try MetaYAML.parse(yaml, file: file)
        id = try m.required("experiment_id")
        name = try m.required("name")
        artifactLocation = m.values["artifact_location"] ?? ""
        creationTime = Int64(m.values["creation_time"] ?? "") ?? 0
        lastUpdateTime = Int64(m.values["last_update_time"] ?? "") ?? creationTime
        lifecycleStage = m.values["lifecycle_stage"] ?? "active"
    }
}

/// The run record, `<root>/<experiment_id>/<run_id>/meta.yaml`, with every field MLflow 3 writes.
public struct RunMeta: Sendable, Equatable {
    public var runID: String
    public var runName: String
    public var experimentID: String
    public var artifactURI: String
    public var startTime: Int64
    public var endTime: Int64?
    public var status: RunStatus
    public var lifecycleStage: String = "active"
    public var userID: String

    public init(
        runID: String, runName: String, experimentID: String, artifactURI: String, startTime: Int64,
        endTime: Int64? = nil, status: RunStatus = .running, lifecycleStage: String = "active", userID: String
    ) {
        self.runID = runID
        self.runName = runName
        self.experimentID = experimentID
        self.artifactURI = artifactURI
        self.startTime = startTime
        self.endTime = endTime
        self.status = status
        self.lifecycleStage = lifecycleStage
        self.userID = userID
    }

    public func yaml() -> String {
        MetaYAML.render([
            ("artifact_uri", .text(artifactURI)),
            ("end_time", endTime.map { .int($0) } ?? .null),
            ("entry_point_name", .text("")),
            ("experiment_id", .text(experimentID)),
            ("lifecycle_stage", .text(lifecycleStage)),
            ("run_id", .text(runID)),
            ("run_name", .text(runName)),
            ("source_name", .text("")),
            ("source_type", .int(4)),
            ("source_version", .text("")),
            ("start_time", .int(startTime)),
            ("status", .int(Int64(status.rawValue))),
            ("tags", .raw("[]")),
            ("user_id", .text(userID)),
        ])
    }

    public init(yaml: String, file: String) throws {
        let m = try MetaYAML.parse(yaml, file: file)
        runID = try m.required("run_id")
        runName = m.values["run_name"] ?? ""
        experimentID = try m.required("experiment_id")
        artifactURI = m.values["artifact_uri"] ?? ""
        startTime = Int64(m.values["start_time"] ?? "") ?? 0
        endTime = m.values["end_time"].flatMap { Int64($0) }
        // MLflow's reader defaults a missing status to RUNNING.
        status = m.values["status"].flatMap { Int($0) }.flatMap { RunStatus(rawValue: $0) } ?? .running
        lifecycleStage = m.values["lifecycle_stage"] ?? "active"
        userID = m.values["user_id"] ?? ""
    }
}

/// The flat YAML of MLflow's meta files: one `key: value` per line. Strings are single-quoted
/// (so ids stay strings and no name can break the document), numbers and null bare.
enum MetaYAML {
    enum Value {
        case text(String), int(Int64), null, raw(String)
    }

    struct Parsed {
        var values: [String: String]
        let file: String
        func required(_ key: String) throws -> String {
            guard let v = values[key] else { throw TrackingError("\(file): missing key '\(key)'") }
            return v
        }
    }

    static func render(_ fields: [(String, Value)]) -> String {
        fields.map { key, value in
            switch value {
            case .text(let s): "\(key): '\(s.replacingOccurrences(of: "'", with: "''"))'"
            case .int(let i): "\(key): \(i)"
            case .null: "\(key): null"
            case .raw(let r): "\(key): \(r)"
            }
        }.joined(separator: "\n") + "\n"
    }

    /// Reads what `render` and MLflow write: plain, single- or double-quoted scalars; `null`, `~`
    /// and an empty value are absent.
    static func parse(_ text: String, file: String) throws -> Parsed {
        var values: [String: String] = [:]
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") || line.hasPrefix(" ")
                || line.hasPrefix("-")
            {
                continue
            }
            guard let colon = line.firstIndex(of: ":") else {
                throw TrackingError("\(file):\(n + 1): expected 'key: value'")
            }
            let key = String(line[..<colon])
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value == "null" || value == "~" || value.isEmpty || value == "[]" { continue }
            if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
            } else if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
                    .replacingOccurrences(of: "\\\\", with: "\\")
            }
            values[key] = value
        }
        return Parsed(values: values, file: file)
    }
}

public struct TrackingError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
