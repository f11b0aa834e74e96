import Foundation
import FsmlCore
import ServiceLifecycle
import Synchronization

/// Follows the served alias as a service: every second, and at once on SIGHUP, it reloads the model
/// when the alias has moved (keeping the one it has when the new one cannot be loaded), flushes the
/// served-feature log, and says which model `fsml_build_info` serves. Ends on a graceful shutdown.
public struct ModelFollower: Service {
    let models: ModelHandle
    let metrics: MetricsRegistry
    let log: ServedLog?

    public init(models: ModelHandle, metrics: MetricsRegistry, log: ServedLog?) {
        self.models = models
        self.metrics = metrics
        self.log = log
        Self.setBuildInfo(metrics, models.current.version)
    }

    public func run() async throws {
        HangUp.install()
        await cancelWhenGracefulShutdown { await poll() }
        log?.flush()
    }

    private func poll() async {
        var last = monotonicNanos()
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            guard HangUp.take() || monotonicNanos() - last >= 1_000_000_000 else { continue }
            last = monotonicNanos()
            follow()
        }
    }

    private func follow() {
        log?.flush()
        do {
            let old = models.current.version
            if let fresh = try models.refresh() {
                metrics.set("fsml_build_info", 0, labels: [("version", FsmlVersion.current), ("model_version", old)])
                Self.setBuildInfo(metrics, fresh.version)
                metrics.add("fsml_serve_model_swaps_total", help: "Models loaded after the alias moved.")
                StandardError.line("fsml serve: now serving \(fresh.version) (was \(old))")
            }
        } catch {
            StandardError.line("fsml serve: keeping \(models.current.version): \(error)")
        }
    }

    private static func setBuildInfo(_ metrics: MetricsRegistry, _ version: String) {
        metrics.set(
            "fsml_build_info", 1, help: "The fsml version and the model version served.",
            labels: [("version", FsmlVersion.current), ("model_version", version)])
    }
}

/// SIGHUP as a flag the model follower polls.
enum HangUp {
    private static let flag = Atomic<Bool>(false)

    static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in HangUp.flag.store(true, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        sigaction(SIGHUP, &action, nil)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGHUP)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    static func take() -> Bool { flag.exchange(false, ordering: .relaxed) }
}
