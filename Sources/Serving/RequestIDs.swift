import FsmlCore

/// Key values for requests, taken from an events file: what real traffic would ask for. One
/// tuple per distinct combination of `fields` (the serving contract's key fields, in its order);
/// events without every required field are skipped, optional ones may be missing.
public struct RequestIDs: Sendable {
    public let fields: [String]
    public var tuples: [[String?]] = []
    /// Per tuple, the request fields the model reads (`ServingContract.requestFields`) taken from
    /// the same event, as members of a JSON object (`"amount":12.5`).
    public var requestValues: [[String]] = []

    /// The distinct key tuples of the first events of `path` (at most `limit`).
    public static func load(path: String, contract: ServingContract, limit: Int = 200_000) throws -> RequestIDs {
        let reader = try LineReader(path: path)
        var ids = RequestIDs(fields: contract.keyFields)
        var seen = Set<[String?]>()
        while ids.tuples.count < limit, let line = try reader.next() {
            guard let (tuple, values) = request(line, contract: contract) else { continue }
            if seen.insert(tuple).inserted {
                ids.tuples.append(tuple)
                ids.requestValues.append(values)
            }
        }
        guard !ids.tuples.isEmpty else {
            throw ServingError("\(path) holds no events with \(contract.requiredFields.joined(separator: ", "))")
        }
        return ids
    }

    /// Key values in the contract's order, and request fields as JSON members.
    public typealias Request = (tuple: [String?], values: [String])

    /// An event line's key values and request fields; nil for a line that is not JSON or lacks a
    /// required key.
    public static func request(_ line: UnsafeRawBufferPointer, contract: ServingContract) -> Request? {
        guard let node = try? JSONParser.parse(Array(line)) else { return nil }
        let tuple = contract.keyFields.map { f in member(node, f).flatMap { $0.string ?? $0.int.map(String.init) } }
        guard zip(contract.keyFields, tuple).allSatisfy({ !contract.required.contains($0) || $1 != nil }) else {
            return nil
        }
        let values = contract.requestFields.keys.sorted().compactMap { name in
            member(node, name).flatMap(json).map { "\(JSONText.quote(name)):\($0)" }
        }
        return (tuple, values)
    }

    /// A dotted field (`device.id`) is a nested member.
    static func member(_ node: JSONNode, _ path: String) -> JSONNode? {
        var v: JSONNode? = node
        for part in path.split(separator: ".") { v = v?[String(part)] }
        return v
    }

    static func json(_ node: JSONNode) -> String? {
        switch node {
        case .number(let text): return text
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return JSONText.quote(s)
        default: return nil
        }
    }

    /// Tuple `i`'s key values as members of a JSON object, without `except`, with `replaced`
    /// standing in for its field's value.
    public func keyMembers(_ i: Int, except: String? = nil, replaced: (field: String, value: String)? = nil) -> [String]
    {
        Self.keyMembers(fields: fields, tuple: tuples[i], except: except, replaced: replaced)
    }

    public static func keyMembers(
        fields: [String], tuple: [String?], except: String? = nil, replaced: (field: String, value: String)? = nil
    ) -> [String] {
        zip(fields, tuple).compactMap { f, v in
            guard f != except, let value = f == replaced?.field ? replaced?.value : v else { return nil }
            return "\(JSONText.quote(f)):\(JSONText.quote(value))"
        }
    }

    /// One tuple as request fields.
    public func fields(_ i: Int) -> [String: String] {
        var out: [String: String] = [:]
        for (f, v) in zip(fields, tuples[i]) where v != nil { out[f] = v }
        return out
    }
}
