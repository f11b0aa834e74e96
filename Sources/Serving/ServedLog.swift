import Foundation
import FsmlCore

/// A sampled log of served feature vectors and scores (JSON lines), for skew checks against the
/// training set. Size-bounded: a file rolls over at `maxBytes`, and only `keep` files are kept.
public final class ServedLog: @unchecked Sendable {
    public let directory: String
    let sampleRate: Double
    let maxBytes: Int
    let keep: Int
    private let lock = NSLockLite()
    private var writer: FileWriter?
    private var index = 0
    private var bytes = 0
    private var random = SeededRandom(seed: UInt64(monotonicNanos()))

    public init(directory: String, sampleRate: Double, maxBytes: Int = 64 << 20, keep: Int = 4) throws {
        self.directory = directory
        self.sampleRate = sampleRate
        self.maxBytes = maxBytes
        self.keep = keep
        try FileSystem.createDirectory(directory)
        index =
            ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .compactMap {
                Int($0.replacingOccurrences(of: "served-", with: "").replacingOccurrences(of: ".jsonl", with: ""))
            }
            .max().map { $0 + 1 } ?? 0
    }

    public static func path(directory: String, index: Int) -> String {
        "\(directory)/served-\(String(format: "%06d", index)).jsonl"
    }

    /// Logs the request with probability `sampleRate`.
    public func record(
        time: Micros, version: String, ids: [(String, String)], features: [String], values: [Float], score: Double
    ) {
        lock.withLock {
            guard sampleRate >= 1 || random.uniform() < sampleRate else { return }
            var line = "{\"ts\":\(JSONText.quote(Timestamp.format(time))),\"model_version\":\(JSONText.quote(version))"
            for (k, v) in ids { line += ",\(JSONText.quote(k)):\(JSONText.quote(v))" }
            line += ",\"score\":\(JSONText.number(score)),\"features\":{"
            line += zip(features, values).map {
                "\(JSONText.quote($0)):\($1.isNaN ? "null" : JSONText.number(Double($1)))"
            }
            .joined(separator: ",")
            line += "}}\n"
            do {
                if writer == nil {
                    writer = try FileWriter(path: Self.path(directory: directory, index: index), append: true)
                }
                try writer!.write(line)
                bytes += line.utf8.count
                if bytes >= maxBytes { try roll() }
            } catch {
                StandardError.line("fsml serve: served-feature log: \(error)")
            }
        }
    }

    private func roll() throws {
        try writer?.close()
        writer = nil
        bytes = 0
        index += 1
        let stale = index - keep
        if stale >= 0 { unlink(Self.path(directory: directory, index: stale)) }
    }

    public func flush() { lock.withLock { try? writer?.flush() } }
    public func close() { lock.withLock { try? writer?.close() } }
}
