import FeatureCore
import FsmlCore
import OnlineStorage
import Streaming

extension Serve {
    /// The stream job of `--stream` in this process: its states mirrored into memory, which
    /// requests read; each (re)start resumes from the checkpoint and fills the memory from the
    /// job's states.
    func inProcessStream(
        _ stream: String, registry: FeatureRegistry, metrics: MetricsRegistry
    ) throws -> (
        StreamJobRunner, MemoryOnlineStore
    ) {
        let config = global.configPath
        let mirror = MemoryOnlineStore(entities: registry.entities)
        let job = self.job
        let started: (StreamJob) throws -> Void = { started in
            try started.publishAllStates(to: mirror)
            StandardError.line(
                "fsml serve: stream job \(Stream.describe(started.report.start)) from \(stream); \(Progress.count(mirror.count)) entity states in memory"
            )
        }
        let first = try job.make(
            source: stream, registry: registry, config: config, mirror: mirror, metrics: metrics
        ).job
        try first.start()
        try started(first)
        let streamRunner = StreamJobRunner(
            first: first, metrics: metrics, labels: [("job", "serve-stream")],
            make: {
                try job.make(source: stream, registry: registry, config: config, mirror: mirror, metrics: metrics)
                    .job
            },
            started: started)
        return (streamRunner, mirror)
    }
}
