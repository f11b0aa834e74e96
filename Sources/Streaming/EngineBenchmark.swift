import FeatureCore
import FsmlCore

/// The stream job's work on an events file, phase by phase: reading (gunzip and split lines),
/// then parsing, admission and folding timed apart by the thread's CPU time (so the rates are
/// per core and other processes do not inflate them), then each entity kind's encoded state
/// size. What `fsml bench engine` measures.
public struct EngineBenchmark: Sendable {
    public var lines = 0
    public var bytesIn = 0.0
    public var readSeconds = 0.0
    public var parsed = 0
    public var deadLetters = 0
    public var late = 0
    public var duplicates = 0
    public var parseNanos: UInt64 = 0
    public var admitNanos: UInt64 = 0
    public var foldNanos: UInt64 = 0
    public var encodeNanos: UInt64 = 0
    public var encoded = 0
    /// Per entity kind: its name, live states, mean and largest encoded bytes.
    public var kinds: [(name: String, states: Int, meanBytes: Double, maxBytes: Int)] = []
    /// Entity kinds and slots folded into.
    public var entityNames: [String] = []
    public var slots = 0

    public var folded: Int { parsed - late - duplicates }
    public var parseRate: Double { Double(lines) / (Double(parseNanos) / 1e9) }
    public var admitRate: Double { Double(parsed) / (Double(admitNanos) / 1e9) }
    public var foldRate: Double { Double(folded) / (Double(foldNanos) / 1e9) }
    public var parseNanosPerLine: Double { Double(parseNanos) / Double(max(lines, 1)) }
    public var admitNanosPerEvent: Double { Double(admitNanos) / Double(max(parsed, 1)) }
    public var foldNanosPerEvent: Double { Double(foldNanos) / Double(max(folded, 1)) }
    public var readMBPerSecond: Double { bytesIn / readSeconds / 1e6 }
    public var parseMBPerSecond: Double { bytesIn / (Double(parseNanos) / 1e9) / 1e6 }

    /// Measures `path` with `registry`'s schema, lateness and features.
    public static func run(path out: String, registry: FeatureRegistry) throws -> EngineBenchmark {
        var result = EngineBenchmark()
        // 2. Reading alone: gunzip and split lines (one core).
        var lineCount = 0
        var bytesIn = 0.0
        let readStart = monotonicNanos()
        let counter = try LineReader(path: out)
        while let line = try counter.next() {
            lineCount += 1
            bytesIn += Double(line.count + 1)
        }
        let readSeconds = Double(monotonicNanos() - readStart) / 1e9
        StandardError.line("bench: read \(Progress.count(lineCount)) lines in \(Progress.fixed(readSeconds, 2)) s")

        // 3. Parsing, admission and folding, timed apart, batch by batch from the file again.
        let parser = EventParser(schema: registry.schema)
        let engine = FeatureEngine(registry: registry)
        let states = StateTable(engine: engine)
        var admission = Admission(lateness: registry.allowedLateness)
        var parseNanos: UInt64 = 0
        var foldNanos: UInt64 = 0
        var admitNanos: UInt64 = 0
        var admitted: [Int] = []
        var parsed = 0
        var deadLetters = 0
        var late = 0
        var duplicates = 0
        var batch: [Event] = []
        batch.reserveCapacity(65_536)
        var text: [UInt8] = []
        var offsets: [Int] = []
        let reader = try LineReader(path: out)
        let foldProgress = Progress("parse+fold", total: lineCount)
        var done = 0
        while true {
            text.removeAll(keepingCapacity: true)
            offsets.removeAll(keepingCapacity: true)
            offsets.append(0)
            while offsets.count <= 65_536, let line = try reader.next() {
                text.append(contentsOf: line)
                offsets.append(text.count)
            }
            let count = offsets.count - 1
            if count == 0 { break }
            // Each batch is parsed into the events of the one before, whose storage is reused.
            var n = 0
            let p0 = threadCPUNanos()
            text.withUnsafeBytes { all in
                for k in 0..<count {
                    if n == batch.count { batch.append(Event(time: 0, values: [])) }
                    let line = UnsafeRawBufferPointer(rebasing: all[offsets[k]..<offsets[k + 1]])
                    if parser.parse(line, into: &batch[n]) == nil { n += 1 } else { deadLetters += 1 }
                }
            }
            let p1 = threadCPUNanos()
            admitted.removeAll(keepingCapacity: true)
            for k in 0..<n {
                switch admission.admit(id: batch[k].id(in: registry.schema), time: batch[k].time) {
                case .admitted: admitted.append(k)
                case .late: late += 1
                case .duplicate: duplicates += 1
                }
            }
            let p2 = threadCPUNanos()
            states.fold(count: admitted.count) { batch[admitted[$0]] }
            let p3 = threadCPUNanos()
            parseNanos += p1 - p0
            admitNanos += p2 - p1
            foldNanos += p3 - p2
            parsed += n
            done += count
            foldProgress.update(done)
            if done % (65_536 * 16) < 65_536 { states.evictExpired(watermark: admission.watermark) }
        }
        foldProgress.finish(lineCount)

        // 4. State sizes as the online store would hold them.
        var kinds: [(String, Int, Double, Int)] = []
        var encodeNanos: UInt64 = 0
        var encoded = 0
        for e in engine.entities.indices {
            var sizes: [Int] = []
            sizes.reserveCapacity(states.count(entity: e))
            let t0 = threadCPUNanos()
            states.forEach(entity: e) { _, state in
                sizes.append(StateCodec.encode(state, engine: engine, entity: e).count)
            }
            encodeNanos += threadCPUNanos() - t0
            encoded += sizes.count
            let mean = sizes.isEmpty ? 0 : Double(sizes.reduce(0, +)) / Double(sizes.count)
            kinds.append((engine.entities[e].entity.name, sizes.count, mean, sizes.max() ?? 0))
        }

        result.lines = lineCount
        result.bytesIn = bytesIn
        result.readSeconds = readSeconds
        (result.parsed, result.deadLetters, result.late, result.duplicates) = (parsed, deadLetters, late, duplicates)
        (result.parseNanos, result.admitNanos, result.foldNanos) = (parseNanos, admitNanos, foldNanos)
        (result.encodeNanos, result.encoded) = (encodeNanos, encoded)
        result.kinds = kinds.map { (name: $0.0, states: $0.1, meanBytes: $0.2, maxBytes: $0.3) }
        result.entityNames = registry.entities.map(\.name)
        result.slots = engine.entities.map(\.slots.count).reduce(0, +)
        return result
    }
}
