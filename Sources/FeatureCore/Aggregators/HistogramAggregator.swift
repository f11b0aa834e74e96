/// `histogram` of a categorical field over the categories `values` lists: per category, how many
/// events carry it, and one more count for every other non-missing value (`_other`), so the
/// histogram is bounded to k + 1 counts however many values the data holds.
///
/// List-valued: a definition named `devices` with values [mobile, desktop] yields the features
/// devices_mobile, devices_desktop and devices_other (a value's characters other than letters,
/// digits and _ become _ in the name). Counts are exact and order-free.
public struct HistogramAggregator: Aggregator {
    public static let name = "histogram"
    public static let argumentKeys = ["field", "values"]
    public let field: Int
    public let categories: [String]
    /// The category hashes, as `DistinctCountAggregator.hash` computes them for the field's type.
    let hashes: [UInt64]
    /// Which count this feature is: an index into `categories`, or `categories.count` for the
    /// rest; nil before the definition is expanded.
    public let output: Int?

    public init(arguments: inout AggregatorArguments) throws(ArgumentError) {
        field = try arguments.field(numeric: false)
        categories = try arguments.list("values")
        guard !categories.isEmpty, categories.count <= 100 else {
            throw ArgumentError(key: "values", message: "a histogram lists from 1 to 100 values")
        }
        guard Set(categories).count == categories.count else {
            throw ArgumentError(key: "values", message: "a value is listed twice")
        }
        let type = arguments.schema.fields[field].type
        var hashes: [UInt64] = []
        for c in categories {
            let value: FieldValue
            if type == .bool {
                guard c == "true" || c == "false" else {
                    throw ArgumentError(key: "values", message: "'\(c)' is not true or false")
                }
                value = .bool(c == "true")
            } else if type.isNumeric {
                guard let x = Double(c) else {
                    throw ArgumentError(key: "values", message: "'\(c)' is not a number, but the field is numeric")
                }
                value = .number(x)
            } else {
                value = .string(c)
            }
            hashes.append(DistinctCountAggregator.hash(value)!)
        }
        self.hashes = hashes
        output = nil
    }

    private init(_ base: Self, output: Int) {
        (field, categories, hashes, self.output) = (base.field, base.categories, base.hashes, output)
    }

    public var stateIdentity: String { "histogram(field: \(field), values: \(categories))" }
    public var identity: String { "\(stateIdentity)[\(output ?? -1)]" }
    public func arguments(in schema: EventSchema) -> [(key: String, value: String)] {
        [("field", schema.fields[field].name), ("values", categories.joined(separator: ","))]
    }
    public var fieldsRead: Set<Int> { [field] }
    public var outputs: [any Aggregator] { (0...categories.count).map { Self(self, output: $0) } }
    public var outputSuffix: String {
        guard let i = output else { return "" }
        guard i < categories.count else { return "_other" }
        return "_" + String(categories[i].map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// Counts per category, then the rest; empty for no events.
    public var empty: [Int64] { [] }
    public func update(_ partial: inout [Int64], with event: Event) {
        guard let h = DistinctCountAggregator.hash(event.values[field]) else { return }
        if partial.isEmpty { partial = Array(repeating: 0, count: categories.count + 1) }
        partial[hashes.firstIndex(of: h) ?? categories.count] += 1
    }
    public func merge(_ partial: inout [Int64], with other: [Int64]) {
        guard !other.isEmpty else { return }
        guard !partial.isEmpty else { return partial = other }
        for i in partial.indices { partial[i] += other[i] }
    }
    public func finalize(_ partial: [Int64]) -> Double {
        guard let i = output else { return .nan }
        return partial.isEmpty ? 0 : Double(partial[i])
    }
    public func encode(_ partial: [Int64], to writer: inout StateWriter) {
        writer.varint(UInt64(partial.count))
        for c in partial { writer.varint(UInt64(c)) }
    }
    public func decode(from reader: inout StateReader) throws(StateDecodeError) -> [Int64] {
        let count = try reader.varint()
        guard count == 0 || count == UInt64(categories.count + 1) else {
            throw StateDecodeError("corrupt state: a histogram of \(count) counts, not \(categories.count + 1)")
        }
        var out: [Int64] = []
        for _ in 0..<count {
            let c = try reader.varint()
            guard c < 1 << 62 else { throw StateDecodeError("corrupt state: count out of range") }
            out.append(Int64(c))
        }
        return out
    }
}
