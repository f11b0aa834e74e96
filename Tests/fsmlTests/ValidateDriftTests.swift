import Foundation
import FsmlCore
import FsmlTestSupport
import Parquet
import Testing

/// `fsml validate drift` end to end on Parquet files: the real binary, its exit code, its reports.
@Suite struct ValidateDriftTests {
    /// A dataset of `rows` rows: a price (uniform, shifted by `shift`), a device (iOS or Android,
    /// iOS with probability `ios`) and a session length that is missing where `missing` says.
    static func write(
        _ path: String, rows: Int, seed: UInt64, shift: Double, ios: Double, missing: (Int) -> Bool
    )
        throws
    {
        var rng = SeededRandom(seed: seed)
        let writer = try ParquetWriter(
            path: path,
            columns: [
                ParquetColumn(name: "price", physical: .double), .string("device"),
                ParquetColumn(name: "sess_duration_s", physical: .double),
            ])
        let gone = (0..<rows).map(missing)
        try writer.write(rowGroup: [
            ColumnData(.double((0..<rows).map { _ in 10 + 90 * rng.uniform() + shift })),
            ColumnData(.byteArray((0..<rows).map { _ in rng.bernoulli(ios) ? "iOS" : "Android" })),
            ColumnData(.double((0..<rows).map { gone[$0] ? 0 : 600 * rng.uniform() }), nulls: gone),
        ])
        _ = try writer.close()
    }

    /// One dataset, its last day against the days before: prices rise on the last day only.
    @Test func theLastDayOfOneDatasetAgainstTheDaysBefore() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededRandom(seed: 4)
        let rows = 4000
        let day: Int64 = 86_400_000_000
        let start: Int64 = 1_767_225_600_000_000  // 2026-01-01
        let times = (0..<rows).map { start + Int64($0) * 4 * day / Int64(rows) }
        let writer = try ParquetWriter(
            path: "\(dir)/set.parquet",
            columns: [ParquetColumn(name: "price", physical: .double), .timestamp("event_ts")])
        try writer.write(rowGroup: [
            ColumnData(.double(times.map { 10 + 90 * rng.uniform() + ($0 >= start + 3 * day ? 30 : 0) })),
            ColumnData(.int64(times)),
        ])
        _ = try writer.close()
        let result = try BinaryRunner.run(
            ["validate", "drift", "--dataset", "set.parquet", "--time-column", "event_ts", "--format", "json"], in: dir)
        #expect(result.status == 1)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let price = (report["features"] as! [[String: Any]])[0]
        // The last 24 hours up to the latest time, as the validation split of `fsml train` takes them.
        #expect(price["reference_rows"] as? Int == 2999 && price["current_rows"] as? Int == 1001)
        #expect(price["flagged"] as? Bool == true)
        #expect((report["current"] as! String).hasSuffix("from 2026-01-03T23:58:33.600Z"))
    }

    @Test func aShiftedPriceAndAVanishedFeatureFailTheCheck() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("\(dir)/train.parquet", rows: 5000, seed: 1, shift: 0, ios: 0.4) { $0 % 7 == 0 }
        // The same distributions, other draws: no drift.
        try Self.write("\(dir)/same.parquet", rows: 3000, seed: 2, shift: 0, ios: 0.4) { $0 % 7 == 0 }
        let same = try BinaryRunner.run(
            ["validate", "drift", "--reference", "train.parquet", "--current", "same.parquet", "--format", "json"],
            in: dir)
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let calm = try JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as! [String: Any]
        #expect(calm["passed"] as? Bool == true && (calm["flagged"] as? [String])?.isEmpty == true)

        // Prices up by 20 (W / std = 20 / 26 ≈ 0.77), the session length never served.
        try Self.write("\(dir)/served.parquet", rows: 3000, seed: 3, shift: 20, ios: 0.4) { _ in true }
        let drifted = try BinaryRunner.run(
            [
                "validate", "drift", "--reference", "train.parquet", "--current", "served.parquet", "--out",
                "reports",
            ], in: dir)
        #expect(drifted.status == 1)
        #expect(drifted.stderr.contains("missing in every row on one side: sess_duration_s"))
        #expect(drifted.stdout.contains("DRIFT: no value in the current data; missing 14.3 % → 100.0 %"))
        let report =
            try JSONSerialization.jsonObject(
                with: try FileSystem.readBytes("\(dir)/reports/drift.json").withUnsafeBytes { Data($0) })
            as! [String: Any]
        let features = report["features"] as! [[String: Any]]
        let byName = Dictionary(uniqueKeysWithValues: features.map { ($0["feature"] as! String, $0) })
        #expect(byName["price"]?["test"] as? String == "Wasserstein distance (normed)")
        #expect(abs((byName["price"]?["statistic"] as! Double) - 20 / (90 / 12.0.squareRoot())) < 0.05)
        #expect(byName["device"]?["test"] as? String == "Jensen-Shannon distance")
        #expect(byName["device"]?["flagged"] as? Bool == false)
        #expect(report["flagged"] as? [String] == ["price", "sess_duration_s"])
        let html = try FileSystem.readText("\(dir)/reports/drift.html")
        #expect(html.contains("2 of 3 columns drifted") && html.contains("data-label=\"sess_duration_s\""))
        let page = try Browser.render("\(dir)/reports/drift.html")
        #expect(page.consoleMessages.isEmpty, "\(page.consoleMessages)")
        #expect(page.screenshotBytes > 10_000)
        #expect(
            page.barLabels.first == "sess_duration_s" && Set(page.barLabels) == ["sess_duration_s", "price", "device"])
    }
}
