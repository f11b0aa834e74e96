import Dispatch
import FeatureCore
import FsmlCore
import OnlineStorage
import Synchronization
import Testing

@testable import Serving

/// The store reader as concurrent requests meet it.
@Suite struct StoreReaderTests {
    /// The in-process store is one instance read by every event loop at once: no request may find
    /// it "busy" and be answered without features (as each did that overlapped another, when the
    /// memory store was pooled like a single connection).
    @Test func concurrentReadsOfTheMemoryStoreAreNeverDegraded() throws {
        let memory = MemoryOnlineStore(entities: PredictionServiceTests.registry.entities)
        let keys = (0..<50).map { "u\($0)" }
        try memory.write(keys.enumerated().map { StateRecord(entity: 0, key: $1, lastTime: 10, blob: [UInt8($0)]) })
        let reader = StoreReader(stores: [memory], probe: memory, cacheTTL: 0, metrics: MetricsRegistry())
        let degraded = Mutex<Int>(0)
        let wrong = Mutex<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<5_000 {
                let k = (i * 7 + t) % keys.count
                let r = reader.read([(0, keys[k])])
                if r.degraded { degraded.withLock { $0 += 1 } }
                if r.values[0].flatMap(StoredValue.blob) != [UInt8(k)] { wrong.withLock { $0 += 1 } }
            }
        }
        #expect(degraded.withLock { $0 } == 0)
        #expect(wrong.withLock { $0 } == 0)
    }
}
