import ArgumentParser
import FsmlCore
import GBDT

struct BenchPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Time batch prediction (all cores) and single-row prediction latency of a tree model.",
        discussion:
            "Single-row latency is measured call by call on one thread over the data's rows, after a warm-up pass; the median and the 99th percentile are reported in nanoseconds."
    )

    @Option(help: "The model file.") var model: String
    @OptionGroup var data: DataFileOptions
    @Option(help: "Single-row calls to time.") var calls: Int = 200_000
    @OptionGroup var output: FormatOption

    func run() throws {
        guard case .gbdt(let m) = try AnyModel.load(path: model) else {
            throw CLIError("bench predict times tree models")
        }
        guard let path = data.data else { throw ValidationError("--data is required") }
        let input = try data.load(path)
        let predictor = FlatPredictor(m)
        // Batch: all cores, best of three.
        var batchSeconds = Double.infinity
        var checksum = 0.0
        for _ in 0..<3 {
            let t0 = monotonicNanos()
            let p = predictor.predict(input.features)
            batchSeconds = min(batchSeconds, Double(monotonicNanos() - t0) / 1e9)
            checksum = p.reduce(0, +)
        }
        // Single rows: one thread, each call timed.
        let rows = input.features.rows
        let columns = input.features.columns
        var latencies = [UInt64](repeating: 0, count: calls)
        var sink = 0.0
        input.features.values.withUnsafeBufferPointer { v in
            for r in 0..<min(rows, 20_000) { sink += predictor.predict(v.baseAddress! + r * columns) }
            for k in 0..<calls {
                let row = v.baseAddress! + (k % rows) * columns
                let t0 = monotonicNanos()
                sink += predictor.predict(row)
                latencies[k] = monotonicNanos() - t0
            }
        }
        latencies.sort()
        let p50 = Double(latencies[calls / 2])
        let p99 = Double(latencies[min(calls - 1, calls * 99 / 100)])
        // What reading the clock twice costs, included in every latency above.
        var empty = [UInt64](repeating: 0, count: 100_000)
        for k in empty.indices {
            let t0 = monotonicNanos()
            empty[k] = monotonicNanos() - t0
        }
        empty.sort()
        let clock = Double(empty[empty.count / 2])
        let leaves = m.trees.reduce(0) { $0 + $1.leaves }
        let result: [(String, JSONValue)] = [
            ("trees", .int(m.trees.count)), ("leaves", .int(leaves)), ("rows", .int(rows)),
            ("batch_seconds", .number(batchSeconds)), ("batch_rows_per_second", .number(Double(rows) / batchSeconds)),
            ("single_row_p50_ns", .number(p50)), ("single_row_p99_ns", .number(p99)),
            ("clock_overhead_ns", .number(clock)),
            ("threads", .int(Parallel.defaultThreads)), ("checksum", .number(checksum + sink * 0)),
        ]
        if output.format == .json {
            StandardOutput.write(JSONText.render(.object(result)) + "\n")
        } else {
            var table = TextTable(["MEASURE", "VALUE"], rightAligned: [1])
            table.add(["model", "\(m.trees.count) trees, \(leaves) leaves"])
            table.add([
                "batch predict",
                "\(Progress.count(Int(Double(rows) / batchSeconds))) rows/s on \(Parallel.defaultThreads) threads",
            ])
            table.add(["single row, median", "\(Int(p50)) ns"])
            table.add(["single row, p99", "\(Int(p99)) ns"])
            table.add(["clock overhead (in both)", "\(Int(clock)) ns"])
            StandardOutput.write(table.render())
        }
    }
}
