import FsmlCore

/// Prints a model's metrics table (train and, when there is one, validation).
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
