import ArgumentParser
import Foundation
import FsmlCore
import Tracking

enum RunsOutput {
    static func json(_ r: RunRecord, aliases: [String]) -> JSONValue {
        .object([
            ("run_id", .string(r.id)), ("run_name", .string(r.name)), ("experiment_id", .string(r.meta.experimentID)),
            ("experiment", .string(r.experimentName)), ("status", .string(r.meta.status.name)),
            ("lifecycle_stage", .string(r.meta.lifecycleStage)), ("start_time", .int(Int(r.meta.startTime))),
            ("end_time", r.meta.endTime.map { .int(Int($0)) } ?? .null),
            ("aliases", .array(aliases.sorted().map { .string($0) })),
            ("params", .object(r.params.keys.sorted().map { ($0, .string(r.params[$0]!)) })),
            ("metrics", .object(r.metrics.keys.sorted().map { ($0, .number(r.metrics[$0]!)) })),
            ("tags", .object(r.tags.keys.sorted().map { ($0, .string(r.tags[$0]!)) })),
            ("directory", .string(r.directory)),
        ])
    }

    static func time(_ ms: Int64) -> String {
        String(Timestamp.format(ms * 1000).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    static func duration(_ r: RunRecord) -> String {
        guard let end = r.meta.endTime else { return r.meta.status == .running ? "running" : "-" }
        return DurationText.human(seconds: Double(end - r.meta.startTime) / 1000)
    }

    static func artifacts(_ dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var files: [String] = []
        while let p = e.nextObject() as? String {
            if !FileSystem.isDirectory(dir + "/" + p) { files.append(p) }
        }
        return files.sorted()
    }
}
