import FeatureCore
import Foundation
import FsmlCore

/// What a later writer of the same offline store (or a restarted stream job) needs to carry on
/// exactly: the next arrival sequence number, the admission state, the lines that wait for a clock
/// jump to be confirmed, and the counts so far.
public struct IntakeState: Sendable, Equatable {
    /// A waiting line as it is stored: parsed again when the intake restarts.
    public struct WaitingRecord: Sendable, Equatable {
        public var raw: [UInt8]
        public var origin: Origin
        public var partition: Int32?
        public var passedBy: Int

        public init(raw: [UInt8], origin: Origin, partition: Int32?, passedBy: Int) {
            self.raw = raw
            self.origin = origin
            self.partition = partition
            self.passedBy = passedBy
        }
    }

    public var nextSequence: Int64
    public var admission: Admission
    public var counts: IntakeCounts
    public var waiting: [WaitingRecord]

    public init(nextSequence: Int64, admission: Admission, counts: IntakeCounts, waiting: [WaitingRecord] = []) {
        self.nextSequence = nextSequence
        self.admission = admission
        self.counts = counts
        self.waiting = waiting
    }

    public func json() -> JSONValue {
        let recent = admission.recent.filter { $0.value >= admission.watermark }.sorted { $0.key < $1.key }
        return .object([
            ("format", .string("fsml-intake-state")), ("format_version", .int(1)),
            ("next_sequence", .int(Int(nextSequence))),
            ("lateness_us", .int(Int(admission.lateness))),
            ("clock_us", admission.clock == .min ? .null : .int(Int(admission.clock))),
            ("max_lag_us", .int(Int(admission.maxLag))),
            (
                "partitions",
                admission.partitions.map { p in
                    .object([
                        ("floor_us", p.floor == .min ? .null : .int(Int(p.floor))),
                        (
                            "clocks_us",
                            .object(p.clocks.sorted { $0.key < $1.key }.map { (String($0.key), .int(Int($0.value))) })
                        ),
                    ])
                } ?? .null
            ),
            ("recent_ids", .array(recent.map { .array([.string($0.key), .int(Int($0.value))]) })),
            (
                "counts",
                .object([
                    ("lines", .int(counts.lines)), ("admitted", .int(counts.admitted)), ("late", .int(counts.late)),
                    ("duplicates", .int(counts.duplicates)), ("dead_letters", .int(counts.deadLetters)),
                    ("waiting", .int(counts.waiting)),
                ])
            ),
            (
                "waiting",
                .array(
                    waiting.map { w in
                        .object([
                            ("raw_base64", .string(Data(w.raw).base64EncodedString())),
                            ("source", .string(w.origin.source)), ("line", .int(w.origin.line)),
                            ("partition", w.partition.map { .int(Int($0)) } ?? .null), ("passed_by", .int(w.passedBy)),
                        ])
                    })
            ),
        ])
    }

    public static func parse(_ node: JSONNode, file: String) throws -> IntakeState {
        func int(_ key: String, _ n: JSONNode? = nil) throws -> Int {
            guard let v = (n ?? node)[key]?.int else {
                throw StateFileError(description: "\(file): missing or bad '\(key)'")
            }
            return v
        }
        guard node["format"]?.string == "fsml-intake-state" else {
            throw StateFileError(description: "\(file): not an fsml intake state file")
        }
        var recent: [String: Micros] = [:]
        for item in node["recent_ids"]?.array ?? [] {
            guard let pair = item.array, pair.count == 2, let id = pair[0].string, let t = pair[1].int else {
                throw StateFileError(description: "\(file): bad recent_ids entry")
            }
            recent[id] = Micros(t)
        }
        let lateness = Micros(try int("lateness_us"))
        let clock = node["clock_us"]?.int.map { Micros($0) } ?? .min
        var partitions: PartitionClocks?
        if let p = node["partitions"], p.object != nil {
            var clocks: [Int32: Micros] = [:]
            for (k, v) in p["clocks_us"]?.object ?? [] {
                guard let partition = Int32(k), let t = v.int else {
                    throw StateFileError(description: "\(file): bad partition clock '\(k)'")
                }
                clocks[partition] = Micros(t)
            }
            partitions = PartitionClocks(clocks: clocks, floor: p["floor_us"]?.int.map { Micros($0) } ?? .min)
        }
        var counts = IntakeCounts()
        if let c = node["counts"] {
            counts.lines = try int("lines", c)
            counts.admitted = try int("admitted", c)
            counts.late = try int("late", c)
            counts.duplicates = try int("duplicates", c)
            counts.deadLetters = try int("dead_letters", c)
            counts.waiting = c["waiting"]?.int ?? 0
        }
        var waiting: [WaitingRecord] = []
        for w in node["waiting"]?.array ?? [] {
            guard let text = w["raw_base64"]?.string, let raw = Data(base64Encoded: text),
                let source = w["source"]?.string, let line = w["line"]?.int
            else { throw StateFileError(description: "\(file): bad waiting entry") }
            let partition = try w["partition"]?.int.map { p -> Int32 in
                guard let p32 = Int32(exactly: p) else {
                    throw StateFileError(description: "\(file): bad partition \(p)")
                }
                return p32
            }
            waiting.append(
                WaitingRecord(
                    raw: [UInt8](raw), origin: Origin(source: source, line: line), partition: partition,
                    passedBy: w["passed_by"]?.int ?? 0))
        }
        return IntakeState(
            nextSequence: Int64(try int("next_sequence")),
            admission: Admission(
                lateness: lateness, clock: clock, recent: recent, maxLag: Micros(node["max_lag_us"]?.int ?? 0),
                partitions: partitions),
            counts: counts, waiting: waiting)
    }

    public static func load(path: String) throws -> IntakeState? {
        guard FileSystem.exists(path) else { return nil }
        let node: JSONNode
        do {
            node = try JSONParser.parse(try FileSystem.readBytes(path))
        } catch let e as JSONParseError {
            throw StateFileError(description: "\(path): \(e.description)")
        }
        return try parse(node, file: path)
    }

    public func save(to path: String) throws {
        try FileSystem.writeAtomically(JSONText.render(json(), indent: nil) + "\n", to: path)
    }
}

public struct StateFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
