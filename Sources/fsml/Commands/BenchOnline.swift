import ArgumentParser
import FeatureCore
import FsmlCore
import Histogram
import OnlineStorage
import Serving
import Workflows

struct BenchOnline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online",
        abstract: "Online store reads alone: one request's entity states (every served entity) per read.",
        discussion: "Measures the store named by --online and, for comparison, the same states in process memory.")

    @Option(help: "The online store (default: stores.online in fsml.yaml).") var online: String?
    @Option(help: "Events to take ids from.") var idsFrom = "data/events.jsonl.gz"
    @Option(help: "Reads to time.") var reads = 100_000
    @Option(help: "Where reports go.") var out = "artifacts/reports"
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: FormatOption

    func run() throws {
        let registry = try global.loadRegistry()
        let store = try ProjectStores.online(online, registry: registry, config: global.configPath)
        let contract = ServingContract(registry: registry, features: registry.servedFeatures)
        let ids = try RequestIDs.load(path: idsFrom, contract: contract)
        let lookup = try FeatureLookup(registry: registry, modelFeatures: [])
        let keys = ids.tuples.indices.map { lookup.keys(ids.fields($0), entities: contract.entities) }
        let memory = MemoryOnlineStore(entities: registry.entities)
        func time(_ s: any OnlineStore) throws -> (Histogram<UInt64>, Int) {
            var h = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
            var found = 0
            for i in 0..<reads {
                let k = keys[i % keys.count]
                let begin = monotonicNanos()
                let values = try s.read(k)
                _ = h.record(monotonicNanos() - begin)
                found += values.lazy.filter { $0 != nil }.count
            }
            return (h, found)
        }
        // Fill the memory store with what the real store holds for these keys.
        for k in keys {
            let values = try store.read(k)
            try memory.write(
                zip(k, values).compactMap { key, v in
                    v.flatMap { v in
                        StoredValue.blob(v).map {
                            StateRecord(entity: key.entity, key: key.key, lastTime: StoredValue.lastTime(v)!, blob: $0)
                        }
                    }
                })
        }
        let (storeHist, found) = try time(store)
        let (memHist, _) = try time(memory)
        func row(_ label: String, _ h: Histogram<UInt64>) -> [(String, JSONValue)] {
            [50.0, 95, 99, 99.9].map {
                (
                    "\(label)_p\($0 == 99.9 ? "99.9" : String(Int($0)))_us",
                    .number(Double(h.valueAtPercentile($0)) / 1000)
                )
            }
                + [("\(label)_max_us", .number(Double(h.max) / 1000))]
        }
        let json = JSONValue.object(
            [("store", .string(store.description)), ("reads", .int(reads)), ("keys_found", .int(found))]
                + row("store", storeHist) + row("memory", memHist))
        try FileSystem.createDirectory(out)
        try FileSystem.writeAtomically(JSONText.render(json) + "\n", to: "\(out)/online-read.json")
        switch output.format {
        case .json: StandardOutput.write(JSONText.render(json) + "\n")
        case .table:
            var t = TextTable(["READ (µs)", store.description, "memory"], rightAligned: [1, 2])
            for p in [50.0, 95, 99, 99.9] {
                t.add([
                    "p\(p == 99.9 ? "99.9" : String(Int(p)))",
                    Progress.fixed(Double(storeHist.valueAtPercentile(p)) / 1000, 2),
                    Progress.fixed(Double(memHist.valueAtPercentile(p)) / 1000, 2),
                ])
            }
            t.add([
                "max", Progress.fixed(Double(storeHist.max) / 1000, 1), Progress.fixed(Double(memHist.max) / 1000, 1),
            ])
            StandardOutput.write(t.render())
        }
    }
}
