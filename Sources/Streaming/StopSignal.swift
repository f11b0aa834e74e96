import Foundation
import Synchronization

/// SIGINT and SIGTERM as a flag the stream loop polls: the job then flushes, checkpoints and
/// exits cleanly instead of dying mid-batch.
public enum StopSignal {
    private static let flag = Atomic<Bool>(false)

    public static var isRaised: Bool { flag.load(ordering: .relaxed) }

    public static func raise() { flag.store(true, ordering: .relaxed) }

    /// Installs the handlers and unblocks the two signals on the calling thread (a parent may have
    /// started us with them blocked). A second signal while stopping exits at once.
    public static func install() {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for sig in [SIGINT, SIGTERM] {
            sigaddset(&unblock, sig)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in
                if StopSignal.flag.exchange(true, ordering: .relaxed) { _exit(130) }
            }
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }
}
