import FeatureCore
import FsmlCore

/// A client's mistake: a 4xx with the field at fault.
public struct RequestError: Error, Sendable, Equatable {
    public var status: Int
    public var message: String
    public var field: String?

    public init(_ status: Int, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    public var json: String {
        "{\"error\":\(JSONText.quote(message))" + (field.map { ",\"field\":\(JSONText.quote($0))" } ?? "") + "}"
    }
}

/// The bodies the server accepts, validated against the serving contract before any store is
/// touched. Key values are strings, or whole numbers (read as their integer text, as entity keys
/// are); null is the same as leaving the field out.
///
/// /predict: `{"account": "a1", "terminal": "t1", "visit": "v1"}`, the model's key fields, and
/// optionally `"explain": true` (false or null: no explanation) unless the contract has a field of
/// that name.
/// /rank: the shared key fields, and `candidates`, a list of objects of the other key fields
/// (`{"account": "a1", "candidates": [{"terminal": "t1"}, {"terminal": "t2"}]}`); a field
/// named as a key field plus "s" holding a list (`"terminals": ["t1", "t2"]`) is short for
/// candidates of that one field.
public enum ServeRequests {
    public static let maxBodyBytes = 65_536
    public static let maxIDLength = 128
    public static let maxCandidates = 1000

    /// A request's key values and the request fields it gives (by name).
    public struct Fields: Equatable, Sendable {
        public var keys: [String: String] = [:]
        public var values: [String: FieldValue] = [:]
        /// /predict only: `"explain": true` asks for the row's top contributions.
        public var explain = false

        public init(keys: [String: String] = [:], values: [String: FieldValue] = [:], explain: Bool = false) {
            self.keys = keys
            self.values = values
            self.explain = explain
        }

        /// These fields, with `other`'s added where these lack them.
        func merging(_ other: Fields) -> Fields {
            Fields(
                keys: keys.merging(other.keys) { a, _ in a }, values: values.merging(other.values) { a, _ in a })
        }

    }

    public struct Rank: Equatable, Sendable {
        public var shared: Fields
        /// The candidates' own fields, in request order.
        public var candidates: [Fields]
        /// The key fields the candidates name, in contract order.
        public var candidateFields: [String]
    }

    public static func predict(_ body: [UInt8], contract: ServingContract) throws(RequestError) -> Fields {
        let object = try parseObject(body)
        var fields = Fields()
        for (name, node) in object.object! {
            if name == explainField && !contract.keyFields.contains(name) && contract.requestFields[name] == nil {
                if case .null = node { continue }
                guard let flag = node.bool else {
                    throw RequestError(400, "\(name) must be true or false", field: name)
                }
                fields.explain = flag
                continue
            }
            try read(name, node, into: &fields, contract)
        }
        try checkRequired(fields.keys, contract)
        return fields
    }

    /// The /predict member that asks for an explanation.
    static let explainField = "explain"

    /// One member of a body: a key value or a request field's value.
    static func read(
        _ name: String, _ node: JSONNode, into fields: inout Fields, _ contract: ServingContract
    ) throws(RequestError) {
        if contract.keyFields.contains(name) {
            if let v = try keyValue(node, field: name) { fields.keys[name] = v }
        } else if let field = contract.requestFields[name] {
            fields.values[name] = try requestValue(node, field: name, type: field.type)
        } else {
            throw unknown(name, contract)
        }
    }

    /// A request field's value, of the field's type; null is missing.
    static func requestValue(_ node: JSONNode, field: String, type: FieldType) throws(RequestError) -> FieldValue {
        if case .null = node { return .missing }
        switch type {
        case .int, .float:
            guard let x = node.double, x.isFinite else {
                throw RequestError(400, "\(field) must be a number", field: field)
            }
            return .number(x)
        case .bool:
            guard let b = node.bool else { throw RequestError(400, "\(field) must be true or false", field: field) }
            return .bool(b)
        case .string, .timestamp:
            guard let s = node.string else { throw RequestError(400, "\(field) must be a string", field: field) }
            try checkID(s, field: field)
            return .string(s)
        }
    }

    public static func rank(_ body: [UInt8], contract: ServingContract) throws(RequestError) -> Rank {
        let object = try parseObject(body)
        var shared = Fields()
        var candidates: [Fields]?
        for (name, node) in object.object! {
            if name == "candidates" {
                guard let items = node.array else {
                    throw RequestError(400, "candidates must be an array of objects", field: "candidates")
                }
                try checkCount(items.count, field: name)
                var list: [Fields] = []
                list.reserveCapacity(items.count)
                for (i, item) in items.enumerated() {
                    guard let members = item.object, !members.isEmpty else {
                        throw RequestError(400, "candidates[\(i)] must be an object of key fields", field: name)
                    }
                    var one = Fields()
                    for (field, value) in members { try read(field, value, into: &one, contract) }
                    guard !one.keys.isEmpty else {
                        throw RequestError(400, "candidates[\(i)] names no key field", field: name)
                    }
                    list.append(one)
                }
                candidates = list
            } else if name.hasSuffix("s"), contract.keyFields.contains(String(name.dropLast())), node.array != nil {
                let field = String(name.dropLast())
                let items = node.array!
                try checkCount(items.count, field: name)
                var list: [Fields] = []
                list.reserveCapacity(items.count)
                for (i, item) in items.enumerated() {
                    guard case .some(.some(let v)) = try? keyValue(item, field: name) else {
                        throw RequestError(400, "\(name)[\(i)] must be a string or a whole number", field: name)
                    }
                    list.append(Fields(keys: [field: v]))
                }
                candidates = list
            } else {
                try read(name, node, into: &shared, contract)
            }
        }
        guard let candidates else {
            throw RequestError(400, "candidates is required (a list of objects of key fields)", field: "candidates")
        }
        let named = Set(candidates.flatMap(\.keys.keys))
        for field in named where shared.keys[field] != nil {
            throw RequestError(400, "\(field) is given both for all and per candidate", field: field)
        }
        for c in candidates { try checkRequired(shared.keys.merging(c.keys) { a, _ in a }, contract) }
        return Rank(shared: shared, candidates: candidates, candidateFields: contract.keyFields.filter(named.contains))
    }

    static func checkCount(_ count: Int, field: String) throws(RequestError) {
        if count == 0 { throw RequestError(400, "\(field) must not be empty", field: field) }
        if count > maxCandidates {
            throw RequestError(400, "\(field) holds \(count) candidates; at most \(maxCandidates)", field: field)
        }
    }

    static func unknown(_ name: String, _ contract: ServingContract) -> RequestError {
        RequestError(
            400, "unknown field '\(name)' (the model reads: \(contract.allFields.joined(separator: ", ")))",
            field: name)
    }

    static func checkRequired(_ fields: [String: String], _ contract: ServingContract) throws(RequestError) {
        for name in contract.requiredFields where fields[name] == nil {
            throw RequestError(400, "\(name) is required", field: name)
        }
    }

    static func parseObject(_ body: [UInt8]) throws(RequestError) -> JSONNode {
        if body.count > maxBodyBytes { throw RequestError(413, "the body is over \(maxBodyBytes) bytes") }
        let node: JSONNode
        do { node = try JSONParser.parse(body) } catch { throw RequestError(400, "invalid JSON: \(error.description)") }
        guard node.object != nil else { throw RequestError(400, "the body must be a JSON object") }
        return node
    }

    /// A key value: a string, or a whole number as its integer text; nil for null.
    static func keyValue(_ node: JSONNode, field: String) throws(RequestError) -> String? {
        if case .null = node { return nil }
        if let s = node.string {
            try checkID(s, field: field)
            return s
        }
        if let x = node.int { return String(x) }
        throw RequestError(400, "\(field) must be a string or a whole number", field: field)
    }

    static func checkID(_ s: String, field: String) throws(RequestError) {
        if s.isEmpty { throw RequestError(400, "\(field) must not be empty", field: field) }
        if s.utf8.count > maxIDLength {
            throw RequestError(400, "\(field) is longer than \(maxIDLength) bytes", field: field)
        }
        if s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw RequestError(400, "\(field) contains a control character", field: field)
        }
    }
}
