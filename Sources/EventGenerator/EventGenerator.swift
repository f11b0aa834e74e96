import FsmlCore

/// Generates a realistic clickstream as JSON lines in arrival order (see `SessionSimulator` for
/// the behaviour, `World` for the cast).
///
/// Hours of the timeline are simulated in parallel, in batches of a fixed size; the lines of a
/// batch are sorted by arrival and written once no later hour can produce an earlier arrival.
/// Output is cut into gzip members at fixed line counts and compressed in parallel. Batch size and
/// member size do not depend on the thread count, so the bytes do not either.
public struct EventGenerator {
    public let config: GeneratorConfig
    private static let blocksPerBatch = 8
    private static let linesPerMember = 32_768

    public init(config: GeneratorConfig) { self.config = config }

    /// Runs the generator, handing finished output chunks (gzip members when `gzip`) to `write`.
    public func run(
        gzip: Bool, threads: Int = Parallel.defaultThreads, progress: Progress? = nil,
        write: ([UInt8]) throws -> Void
    ) throws -> GeneratorSummary {
        let world = World(config: config)
        let simulator = SessionSimulator(world: world, config: config)
        let formatter = EventFormatter(world: world)
        let blockLength = Timestamp.microsPerHour
        let blocks = config.days * 24
        let quotas = Self.quotas(total: config.events, blocks: blocks, start: config.start, blockLength: blockLength)
        var summary = GeneratorSummary()
        var pending: [GeneratedLine] = []
        var batch = 0
        while batch < blocks {
            let batchEnd = min(batch + Self.blocksPerBatch, blocks)
            let results = Parallel.map(batchEnd - batch, threads: threads) { i in
                simulator.simulate(
                    block: batch + i, quota: quotas[batch + i],
                    blockStart: config.start + Micros(batch + i) * blockLength,
                    blockLength: blockLength)
            }
            for (lines, s) in results {
                pending.append(contentsOf: lines)
                summary.add(s)
            }
            pending.sort { ($0.arrival, $0.sequence) < ($1.arrival, $1.sequence) }
            let cutoff = batchEnd == blocks ? Micros.max : config.start + Micros(batchEnd) * blockLength
            let ready = pending.prefix { $0.arrival < cutoff }.count
            let members = (ready + Self.linesPerMember - 1) / Self.linesPerMember
            let chunks = try Parallel.map(members, threads: threads) { m -> [UInt8] in
                var text: [UInt8] = []
                text.reserveCapacity(Self.linesPerMember * 280)
                let lo = m * Self.linesPerMember
                for i in lo..<min(lo + Self.linesPerMember, ready) { formatter.append(pending[i], to: &text) }
                return gzip ? try Gzip.compress(text, level: config.gzipLevel) : text
            }
            for chunk in chunks {
                try write(chunk)
                summary.bytes += chunk.count
            }
            pending.removeFirst(ready)
            batch = batchEnd
            progress?.update(summary.lines - pending.count)
        }
        return summary
    }

    /// Splits the events over the hours in proportion to the traffic curve, summing exactly to
    /// `total`.
    static func quotas(total: Int, blocks: Int, start: Micros, blockLength: Micros) -> [Int] {
        let weights = (0..<blocks).map { World.trafficWeight(at: start + Micros($0) * blockLength) }
        let sum = weights.reduce(0, +)
        var cumulative = 0.0
        var assigned = 0
        return weights.map { w in
            cumulative += w
            let upTo = Int((Double(total) * cumulative / sum).rounded())
            defer { assigned = upTo }
            return upTo - assigned
        }
    }
}
