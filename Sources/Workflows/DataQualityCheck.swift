import FeatureCore
import FsmlCore
import OfflineStorage
import Parquet
import PointInTime

/// fsml.yaml's expectations checked on events, on the offline store's admitted events or on a
/// dataset: every row profiled once, then each expectation judged (`fsml validate data`).
public enum DataQualityCheck {
    /// What is checked.
    public enum Source: Sendable {
        /// An events file (JSONL, .gz read too): lines that fail the schema count as invalid.
        case events(path: String)
        /// The admitted events of an offline store.
        case offlineStore(root: String)
        /// A dataset (.parquet from `fsml build`).
        case dataset(path: String)

        /// The file or folder, as reports name it.
        public var name: String {
            switch self {
            case .events(let p), .offlineStore(let p), .dataset(let p): p
            }
        }
    }

    /// Each expectation's result; freshness is judged at `asOf`.
    public static func run(registry: FeatureRegistry, source: Source, asOf: Micros) throws -> [ExpectationResult] {
        let expectations = registry.expectations
        guard !expectations.columns.isEmpty || expectations.freshness != nil || expectations.maxInvalidRate != nil
        else {
            throw WorkflowError("\(registry.source) declares no expectations (an `expectations:` section)")
        }
        var profiler = ColumnProfiler(expectations: expectations)
        let schema = registry.schema
        let fieldOf = profiler.columns.map { schema.index(of: $0) }
        var lines: Int?
        switch source {
        case .events(let path):
            let parser = EventParser(schema: schema)
            let reader = try LineReader(path: path)
            var count = 0
            while let line = try reader.next() {
                count += 1
                switch parser.parse(line) {
                case .failure: profiler.invalid += 1
                case .success(let event): profile(event, &profiler, fieldOf)
                }
            }
            lines = count
        case .offlineStore(let root):
            let store = OfflineStore(root: root)
            // A store that is not there is an error, not a store of no events that passes.
            guard FileSystem.exists(store.statePath) || (try? store.files().isEmpty) == false else {
                throw WorkflowError("\(store.root) is not an offline store (no _state.json and no event files)")
            }
            let scanner = try OfflineStoreScanner(store: store, schema: schema)
            while let stored = try scanner.next() { profile(stored.event, &profiler, fieldOf) }
        case .dataset(let path):
            try profileDataset(path, &profiler)
        }
        return profiler.results(asOf: asOf, lines: lines)
    }

    static func profile(_ event: Event, _ profiler: inout ColumnProfiler, _ fieldOf: [Int?]) {
        profiler.startRow()
        profiler.newest = max(profiler.newest ?? .min, event.time)
        for (c, f) in fieldOf.enumerated() { profiler.add(c, f.map { event.values[$0] } ?? .missing) }
    }

    /// A dataset's columns that expectations name, a row group at a time.
    static func profileDataset(_ path: String, _ profiler: inout ColumnProfiler) throws {
        let reader = try ParquetReader(path: path)
        let present = profiler.columns.enumerated().compactMap { c, name in reader.columnIndex(name).map { (c, $0) } }
        for g in reader.rowGroups.indices {
            let data = try reader.read(rowGroup: g, columns: present.map(\.1))
            let rows = data.first?.count ?? reader.rowGroups[g].rows
            let numbers = data.map { DatasetReader.doubles($0) }
            let texts = data.map { c -> [String?]? in
                if case .byteArray = c.values { DatasetReader.texts(c) } else { nil }
            }
            for r in 0..<rows {
                profiler.startRow()
                for (k, (c, _)) in present.enumerated() {
                    if let t = texts[k] {
                        profiler.add(c, number: nil, text: t[r])
                    } else {
                        profiler.add(c, number: numbers[k][r].isNaN ? nil : numbers[k][r], text: nil)
                    }
                }
            }
        }
    }

    /// The results as JSON (what scripts read).
    public static func json(_ results: [ExpectationResult], data: String) -> JSONValue {
        .object([
            ("data", .string(data)), ("passed", .bool(results.allSatisfy(\.passed))),
            (
                "expectations",
                .array(
                    results.map {
                        .object([
                            ("column", .string($0.column)), ("check", .string($0.check)),
                            ("expected", .string($0.expected)),
                            ("observed", .string($0.observed)), ("passed", .bool($0.passed)),
                        ])
                    })
            ),
        ])
    }

    /// The results as a page: a summary naming what failed, then one row per expectation.
    public static func html(_ results: [ExpectationResult], data: String) -> String {
        var classes: [[Int]: String] = [:]
        for (i, r) in results.enumerated() { classes[[i, 4]] = r.passed ? "passed" : "failed" }
        let failing = results.filter { !$0.passed }
        let summary =
            failing.isEmpty
            ? "All \(results.count) expectations met."
            : "<b>\(failing.count) of \(results.count) expectations failed</b>: "
                + HTML.escape(failing.map { "\($0.column) \($0.check) (\($0.observed))" }.joined(separator: "; ")) + "."
        let body =
            "<h1>Data quality: \(HTML.escape(data))</h1><p class=\"summary\">\(summary)</p>"
            + HTML.table(
                ["column", "check", "expected", "observed", "result"],
                results.map { [$0.column, $0.check, $0.expected, $0.observed, $0.passed ? "passed" : "FAILED"] },
                left: [0, 1, 2, 3, 4], classes: classes)
        return HTML.page(title: "fsml validate", body: body)
    }
}
