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

/// The bodies the server accepts, validated before any store is touched.
public enum ServeRequests {
    public static let maxBodyBytes = 65_536
    public static let maxIDLength = 128
    public static let maxRankProducts = 1000

    public struct Predict: Equatable, Sendable {
        public var userID: String
        public var productID: String
        public var sessionID: String?
    }

    public struct Rank: Equatable, Sendable {
        public var userID: String
        public var sessionID: String?
        public var productIDs: [String]
    }

    public static func predict(_ body: [UInt8]) throws(RequestError) -> Predict {
        let object = try parseObject(body)
        return Predict(
            userID: try id(object, "user_id"), productID: try id(object, "product_id"),
            sessionID: try optionalID(object, "session_id"))
    }

    public static func rank(_ body: [UInt8]) throws(RequestError) -> Rank {
        let object = try parseObject(body)
        guard let node = object["product_ids"] else {
            throw RequestError(400, "product_ids is required", field: "product_ids")
        }
        guard let items = node.array else {
            throw RequestError(400, "product_ids must be an array of strings", field: "product_ids")
        }
        if items.isEmpty { throw RequestError(400, "product_ids must not be empty", field: "product_ids") }
        if items.count > maxRankProducts {
            throw RequestError(
                400, "product_ids holds \(items.count) ids; at most \(maxRankProducts)", field: "product_ids")
        }
        var ids: [String] = []
        ids.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let s = item.string else {
                throw RequestError(400, "product_ids[\(i)] must be a string", field: "product_ids")
            }
            try checkID(s, field: "product_ids")
            ids.append(s)
        }
        return Rank(userID: try id(object, "user_id"), sessionID: try optionalID(object, "session_id"), productIDs: ids)
    }

    static func parseObject(_ body: [UInt8]) throws(RequestError) -> JSONNode {
        if body.count > maxBodyBytes { throw RequestError(413, "the body is over \(maxBodyBytes) bytes") }
        let node: JSONNode
        do { node = try JSONParser.parse(body) } catch { throw RequestError(400, "invalid JSON: \(error.description)") }
        guard node.object != nil else { throw RequestError(400, "the body must be a JSON object") }
        return node
    }

    static func id(_ object: JSONNode, _ field: String) throws(RequestError) -> String {
        guard let value = try optionalID(object, field) else {
            throw RequestError(400, "\(field) is required", field: field)
        }
        return value
    }

    static func optionalID(_ object: JSONNode, _ field: String) throws(RequestError) -> String? {
        guard let node = object[field] else { return nil }
        if case .null = node { return nil }
        guard let s = node.string else { throw RequestError(400, "\(field) must be a string", field: field) }
        try checkID(s, field: field)
        return s
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
