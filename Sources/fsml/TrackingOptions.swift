import ArgumentParser
import FsmlCore
import Tracking

/// Where experiments live: --tracking-dir, else $FSML_TRACKING_DIR, else ./experiments.
struct TrackingOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The experiments folder (default: $FSML_TRACKING_DIR or ./experiments).", valueName: "path"))
    var trackingDir: String?

    var store: TrackingStore {
        TrackingStore(root: trackingDir ?? getenvString("FSML_TRACKING_DIR") ?? "experiments")
    }
}
