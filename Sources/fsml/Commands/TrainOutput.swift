import FsmlCore
import GBDT

/// Per-iteration progress: a rewritten line on a terminal, a log line every 10 iterations otherwise.
final class IterationReporter {
    private let progress: Progress
    private let total: Int
    private var last: IterationRecord?
    private let isTerminal = StandardError.isTerminal

    init(total: Int) {
        self.total = total
        progress = Progress("iteration", total: total, logInterval: 1e9)
    }

    func report(_ r: IterationRecord) {
        last = r
        if isTerminal {
            progress.update(r.iteration, detail: Self.describe(r))
        } else if r.iteration == 1 || r.iteration % 10 == 0 {
            StandardError.line("iteration \(r.iteration)/\(total): \(Self.describe(r))")
        }
    }

    func finish() {
        guard let last else { return }
        if isTerminal {
            progress.finish(last.iteration, detail: Self.describe(last))
        } else if last.iteration % 10 != 0 {
            StandardError.line("iteration \(last.iteration)/\(total): \(Self.describe(last))")
        }
    }

    static func describe(_ r: IterationRecord) -> String {
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

enum MetricsOutput {
    static func print(_ rows: [(String, Double, Double?)], format: OutputFormat, extra: [(String, JSONValue)] = []) {
        switch format {
        case .json:
            let pairs: [(String, JSONValue)] = rows.map { r in
                (r.0, .object([("train", .number(r.1))] + (r.2.map { [("valid", JSONValue.number($0))] } ?? [])))
            }
            StandardOutput.write(JSONText.render(.object([("metrics", .object(pairs))] + extra)) + "\n")
        case .table:
            let hasValid = rows.contains { $0.2 != nil }
            var table = TextTable(
                hasValid ? ["METRIC", "TRAIN", "VALID"] : ["METRIC", "TRAIN"], rightAligned: [1, 2])
            for r in rows {
                table.add([r.0, Progress.fixed(r.1, 6)] + (hasValid ? [r.2.map { Progress.fixed($0, 6) } ?? "-"] : []))
            }
            StandardOutput.write(table.render())
        }
    }
}
