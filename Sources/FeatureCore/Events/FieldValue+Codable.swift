/// Field values as JSON: a string, a number, a boolean or null; what a request body holds.
extension FieldValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .missing
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let x = try? c.decode(Double.self) {
            self = .number(x)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .missing: try c.encodeNil()
        case .string(let s): try c.encode(s)
        case .number(let x): try c.encode(x)
        case .bool(let b): try c.encode(b)
        }
    }
}
