import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore
import OfflineStorage
import OnlineStorage
import PointInTime
import Serving
import Streaming
import Workflows

struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fold events into fresh features in the online store, and keep them in the offline store.",
        discussion: """
            Each event is parsed and validated (failures go to dead_letters with their reason), admitted \
            (late events to late/, duplicates counted) and folded through the same time engine as `fsml build`. \
            Changed entity states go to the online store every --flush-interval; admitted events to the offline \
            store. A checkpoint (source position and every entity state) is written every --checkpoint-interval \
            and at SIGINT/SIGTERM; running the same command again resumes from it, nothing lost or counted twice. \
            Without a checkpoint, events already in the offline store are replayed first, so online states start \
            from the whole history. With --shards and a kafka:// source, the process is one member of a consumer \
            group whose partitions carry their entity states, watermarks and offline stores from member to member \
            (docs/scaling.md).
            """
    )

    @Option(
        help: ArgumentHelp(
            "The events: file:PATH (JSONL, .gz read too), a path, - for stdin, or kafka://HOST:PORT/TOPIC?group=G.",
            valueName: "source"))
    var source: String
    @Option(
        help: ArgumentHelp(
            "With kafka://...?group=G: the shard directory the group's members share; each partition's entity states move with it.",
            valueName: "dir"))
    var shards: String?
    @OptionGroup var job: StreamJobOptions
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        if let shards { return try runMember(shards: shards) }
        let registry = try global.loadRegistry()
        let built = try job.make(source: source, registry: registry, config: global.configPath, mirror: nil)
        defer { built.job.close() }
        StopSignal.install()
        let start = try built.job.start()
        StandardError.line(
            "fsml stream: \(Self.describe(start)) from \(built.spec); online \(built.online?.description ?? "none"), offline \(built.offline?.root ?? "none"), checkpoint \(built.job.checkpointPath)"
        )
        let report = try built.job.run()
        StreamOutput.print(report, job: built.job, format: output.format)
        // The process ends next: freeing the job's states one by one (a million of them took a
        // twentieth of the job's CPU) is work the kernel does at once when it takes the pages back.
        _ = Unmanaged.passRetained(built.job)
    }

    static func describe(_ start: StreamStart) -> String {
        switch start {
        case .fresh: return "starting fresh"
        case .resumed(let line): return "resuming after \(Progress.count(line)) lines"
        case .bootstrapped(let events): return "replayed \(Progress.count(events)) events from the offline store"
        }
    }
}
