import FeatureCore

/// Everything an online store holds for the entity kinds, by `entity/key`: what "key for key"
/// compares (the clock and writers' markers left out).
public enum StoreContents {
    public static func all(_ store: any OnlineStore, entityCount: Int) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for e in 0..<entityCount {
            let keys = try store.keys(entity: e).sorted()
            var start = 0
            while start < keys.count {
                let chunk = Array(keys[start..<min(start + 1_000, keys.count)])
                for (k, v) in zip(chunk, try store.read(chunk.map { (entity: e, key: $0) })) {
                    if let v { out["\(e)/\(k)"] = v }
                }
                start += chunk.count
            }
        }
        return out
    }

    /// Each key whose value differs or that only one side holds, described.
    public static func differences(_ a: [String: [UInt8]], _ b: [String: [UInt8]]) -> [String] {
        var out: [String] = []
        for (k, v) in a where b[k] != v { out.append(b[k] == nil ? "\(k): only in the first" : "\(k): differs") }
        for k in b.keys where a[k] == nil { out.append("\(k): only in the second") }
        return out.sorted()
    }
}
