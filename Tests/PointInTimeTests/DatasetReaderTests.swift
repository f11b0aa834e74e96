import Foundation
import FsmlCore
import OfflineStorage
import Parquet
import Testing

@testable import PointInTime

@Suite struct DatasetReaderTests {
    @Test func readsFeaturesLabelsTimesAndSegmentsWithNullsAsNaN() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ds-\(UUID().uuidString).parquet").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let columns = [
            ParquetColumn.timestamp("event_ts"), ParquetColumn.string("device.os"),
            ParquetColumn(name: "f1", physical: .double),
            ParquetColumn(name: "label", physical: .int32, optional: false),
        ]
        let writer = try DatasetWriter(path: path, format: .parquet, columns: columns)
        let day: Micros = 86_400_000_000
        try writer.append([
            ColumnData(.int64([0, day, 2 * day, 2 * day + 5])),
            ColumnData(.byteArray(["ios", "", "android", "ios"]), nulls: [false, true, false, false]),
            ColumnData(.double([1.5, 0, 3, 4]), nulls: [false, true, false, false]),
            ColumnData(.int32([0, 1, 1, 0])),
        ])
        try writer.close()
        let t = try DatasetReader.load(
            path: path, features: ["f1"], label: "label", time: "event_ts", segments: ["device.os", "geo.country"])
        #expect(t.rows == 4 && t.labels == [0, 1, 1, 0])
        #expect(t.features[0][0] == 1.5 && t.features[0][1].isNaN && t.features[0][3] == 4)
        #expect(t.segments["device.os"]! == ["ios", nil, "android", "ios"])
        #expect(t.segments["geo.country"] == nil)  // absent columns are skipped
        #expect(throws: FsmlIOError.self) {
            try DatasetReader.load(path: path, features: ["missing"], label: "label", time: "event_ts", segments: [])
        }

        // The last 24 hours before the latest example (2 d + 5 µs) are validation.
        let split = TimeSplit.lastDays(t.times)
        #expect(split.start == day + 5 && split.train == [0, 1] && split.valid == [2, 3])
        #expect(t.subset(split.valid).labels == [1, 0])
        #expect(TimeSplit.at(t.times, start: day).valid == [1, 2, 3])
    }
}
