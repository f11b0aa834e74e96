import ServiceLifecycle

extension StreamJobRunner: Service {
    /// Runs the job on its thread until its source ends or a graceful shutdown of the service group
    /// stops it: the job then flushes its writes and checkpoints before this returns.
    public func run() async throws {
        start()
        await withGracefulShutdownHandler {
            await finished()
        } onGracefulShutdown: {
            StopSignal.raise()
        }
    }
}
