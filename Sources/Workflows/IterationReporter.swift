import FsmlCore
import GBDT

/// Per-iteration progress: a rewritten line on a terminal, a log line every 10 iterations otherwise.
public final class IterationReporter {
    private let progress: Progress
    private let total: Int
    private var last: IterationRecord?
    private let isTerminal = StandardError.isTerminal

    public init(total: Int) {
        self.total = total
        progress = Progress("iteration", total: total, logInterval: 1e9)
    }

    public func report(_ r: IterationRecord) {
        last = r
        if isTerminal {
            progress.update(r.iteration, detail: Self.describe(r))
        } else if r.iteration == 1 || r.iteration % 10 == 0 {
            StandardError.line("iteration \(r.iteration)/\(total): \(Self.describe(r))")
        }
    }

    public func finish() {
        guard let last else { return }
        if isTerminal {
            progress.finish(last.iteration, detail: Self.describe(last))
        } else if last.iteration % 10 != 0 {
            StandardError.line("iteration \(last.iteration)/\(total): \(Self.describe(last))")
        }
    }

    public static func describe(_ r: IterationRecord) -> String {
        var text =
            "train " + r.train.map { "\($0.metric.rawValue) \(Progress.fixed($0.value, 5))" }.joined(separator: " ")
        if !r.valid.isEmpty {
            text +=
                " | valid "
                + r.valid.map { "\($0.metric.rawValue) \(Progress.fixed($0.value, 5))" }.joined(separator: " ")
        }
        return text
    }
}
