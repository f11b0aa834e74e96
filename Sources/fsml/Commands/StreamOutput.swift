import FsmlCore
import Streaming

/// What `fsml stream` prints when its job ends: the counts, the rates, the latencies, where the
/// checkpoint and the reject logs are.
enum StreamOutput {
    static func print(_ report: StreamReport, job: StreamJob, format: OutputFormat) {
        switch format {
        case .json:
            StandardOutput.write(JSONText.render(report.json()) + "\n")
        case .table:
            let c = report.counts
            var table = TextTable(["STREAM", "VALUE"], rightAligned: [1])
            table.add(["lines", Progress.count(c.lines)])
            table.add(["events/s", Progress.count(Int(report.linesPerSecond))])
            table.add(["admitted", Progress.count(c.admitted)])
            table.add(["late", Progress.count(c.late)])
            table.add(["duplicates", Progress.count(c.duplicates)])
            table.add(["dead letters", Progress.count(c.deadLetters)])
            if c.waiting > 0 { table.add(["waiting (clock jump)", Progress.count(c.waiting)]) }
            table.add(["states written", Progress.count(report.statesWritten)])
            table.add(["entities held", Progress.count(report.entities)])
            if let q = report.freshness.quantiles([0.5, 0.99]) {
                table.add([
                    "freshness p50 / p99", "\(Progress.fixed(q[0] * 1000, 1)) / \(Progress.fixed(q[1] * 1000, 1)) ms",
                ])
            }
            if let q = report.onlineWrite.quantiles([0.5, 0.99]) {
                table.add([
                    "online write p50 / p99",
                    "\(Progress.fixed(q[0] * 1000, 2)) / \(Progress.fixed(q[1] * 1000, 2)) ms",
                ])
            }
            table.add(["checkpoint", job.checkpointPath])
            if c.deadLetters > 0 { table.add(["dead letters in", job.deadLetterPath]) }
            if c.late > 0 { table.add(["late events in", job.latePath]) }
            StandardOutput.write(table.render())
        }
    }
}
