import Foundation
import FsmlCore

/// Text formats the loaders read.
public enum DataFormat: String, Sendable, CaseIterable {
    case csv, tsv, libsvm

    /// The format a file name suggests (`.tsv`, `.svm`/`.libsvm`, else CSV); LightGBM's example files
    /// (`binary.train`) are tab-separated.
    public static func guess(path: String) -> DataFormat {
        let lower = path.lowercased().replacingOccurrences(of: ".gz", with: "")
        if lower.hasSuffix(".tsv") || lower.hasSuffix(".train") || lower.hasSuffix(".test") { return .tsv }
        if lower.hasSuffix(".svm") || lower.hasSuffix(".libsvm") { return .libsvm }
        return .csv
    }
}

public struct DataLoadError: Error, CustomStringConvertible, Sendable, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How to read a delimited file.
public struct DelimitedOptions: Sendable {
    public enum Header: String, Sendable { case auto, yes, no }
    public var delimiter: UInt8 = UInt8(ascii: ",")
    public var header: Header = .auto
    /// The label column: its index (0-based) or, with a header, its name; `none` for unlabelled
    /// data (labels are then NaN).
    public var labelColumn: String = "0"
    /// A column of sample weights (index or header name), left out of the features.
    public var weightColumn: String?
    /// A column of query ids (index or header name; any text), left out of the features: each run
    /// of rows with the same id is a query, as LightGBM's group_column reads it.
    public var groupColumn: String?
    public init() {}
}

public enum DataLoader {
    /// Loads a labelled file in any of the formats; gzip by extension or magic bytes.
    /// As LightGBM does, weights come from `PATH.weight` (one a line) when that file exists, or
    /// from the `weightColumn` of a delimited file.
    public static func load(
        path: String, format: DataFormat, labelColumn: String = "0", header: DelimitedOptions.Header = .auto,
        weightColumn: String? = nil, groupColumn: String? = nil
    ) throws -> LabeledData {
        var data: LabeledData
        switch format {
        case .libsvm:
            if weightColumn != nil {
                throw DataLoadError("\(path): a LibSVM file has no weight column; use \(path).weight")
            }
            if groupColumn != nil {
                throw DataLoadError("\(path): a LibSVM file has no query column; use \(path).query")
            }
            data = try LibSVMLoader.load(path: path)
        case .csv, .tsv:
            var options = DelimitedOptions()
            options.delimiter = format == .tsv ? 9 : UInt8(ascii: ",")
            options.labelColumn = labelColumn
            options.header = header
            options.weightColumn = weightColumn
            options.groupColumn = groupColumn
            data = try DelimitedLoader.load(path: path, options: options)
        }
        if data.weights == nil, FileSystem.exists(path + ".weight") {
            data.weights = try numbers(path + ".weight", rows: data.rows, what: "a weight (a number 0 or more)") {
                $0 >= 0
            }.map { Float($0) }
        }
        if data.groups == nil, FileSystem.exists(path + ".query") {
            let sizes = try numbers(path + ".query", rows: -1, what: "a query size (a whole number)") {
                $0 >= 1 && $0 == $0.rounded()
            }.map { Int($0) }
            guard sizes.reduce(0, +) == data.rows else {
                throw DataLoadError(
                    "\(path).query: the query sizes add up to \(sizes.reduce(0, +)), not \(data.rows) rows")
            }
            data.groups = sizes
        }
        if FileSystem.exists(path + ".init") {
            data.initScores = try numbers(path + ".init", rows: data.rows, what: "an initial score") { _ in true }
        }
        return data
    }

    /// A LightGBM side file (.weight, .init, .query): one finite number a line that `valid`
    /// accepts, a line per row (`rows` < 0: any number of lines).
    static func numbers(_ path: String, rows: Int, what: String, valid: (Double) -> Bool) throws -> [Double] {
        let reader = try LineReader(path: path)
        var out: [Double] = []
        out.reserveCapacity(rows)
        while let line = try reader.next() {
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let x = Double(text), x.isFinite, valid(x) else {
                throw DataLoadError("\(path):\(out.count + 1): '\(text.prefix(30))' is not \(what)")
            }
            out.append(x)
        }
        guard rows < 0 || out.count == rows else {
            throw DataLoadError("\(path): \(out.count) values for \(rows) rows")
        }
        return out
    }
}

/// Query sizes from a column of ids: a query is a run of rows with one id, and an id that comes
/// back after another is an error (the rows of a query must be together, as LightGBM requires).
struct QueryRuns {
    let path: String
    private(set) var sizes: [Int] = []
    private var current: String?
    private var finished: Set<String> = []

    init(path: String) { self.path = path }

    mutating func add(_ id: String, line: Int) throws {
        if id == current {
            sizes[sizes.count - 1] += 1
            return
        }
        if let current { finished.insert(current) }
        guard !finished.contains(id) else {
            throw DataLoadError(
                "\(path):\(line): query '\(id.prefix(40))' comes back after another: sort the file by its query column")
        }
        current = id
        sizes.append(1)
    }
}

/// CSV and TSV: one row per line, a label column, optional header. Empty fields and `NA`, `NaN`,
/// `nan`, `null`, `?` are missing (NaN). Quoted fields are accepted for headers.
public enum DelimitedLoader {
    public static func load(path: String, options: DelimitedOptions) throws -> LabeledData {
        let reader = try LineReader(path: path)
        var names: [String]?
        var labelIndex: Int?
        var weightIndex: Int?
        var groupIndex: Int?
        var groups = QueryRuns(path: path)
        var matrix: DenseMatrix?
        var labels: [Float] = []
        var weights: [Float] = []
        var row: [Float] = []
        var fields: [(Int, Int)] = []
        var lineNumber = 0
        while let line = try reader.next() {
            lineNumber += 1
            if line.isEmpty { continue }
            split(line, delimiter: options.delimiter, into: &fields)
            if matrix == nil {
                // The first line: a header, or the first row.
                let isHeader: Bool
                switch options.header {
                case .yes: isHeader = true
                case .no: isHeader = false
                case .auto:
                    // Query ids may be text in every row: they say nothing about a header. A query
                    // column named rather than numbered needs one.
                    let queryIndex = options.groupColumn.flatMap { Int($0) }
                    isHeader =
                        (options.groupColumn != nil && queryIndex == nil)
                        || fields.enumerated().contains {
                            $0.offset != queryIndex && parseFloat(line, $0.element) == nil
                        }
                }
                let columnCount = fields.count
                let unlabelled = options.labelColumn == "none"
                if let n = Int(options.labelColumn) {
                    guard n >= 0 && n < columnCount else {
                        throw DataLoadError("\(path): label column \(n) does not exist (\(columnCount) columns)")
                    }
                    labelIndex = n
                }
                if let column = options.weightColumn, let n = Int(column) {
                    guard n >= 0 && n < columnCount && n != labelIndex else {
                        throw DataLoadError("\(path): weight column \(n) is not a column other than the label's")
                    }
                    weightIndex = n
                }
                if let column = options.groupColumn, let n = Int(column) {
                    guard n >= 0 && n < columnCount && n != labelIndex && n != weightIndex else {
                        throw DataLoadError(
                            "\(path): query column \(n) is not a column other than the label's and weight's")
                    }
                    groupIndex = n
                }
                if isHeader {
                    let header = fields.map {
                        unquote(String(decoding: UnsafeRawBufferPointer(rebasing: line[$0.0..<$0.1]), as: UTF8.self))
                    }
                    if labelIndex == nil && !unlabelled {
                        guard let i = header.firstIndex(of: options.labelColumn) else {
                            throw DataLoadError("\(path): no column named '\(options.labelColumn)' in the header")
                        }
                        labelIndex = i
                    }
                    if let column = options.weightColumn, weightIndex == nil {
                        guard let i = header.firstIndex(of: column), i != labelIndex else {
                            throw DataLoadError("\(path): no weight column named '\(column)' in the header")
                        }
                        weightIndex = i
                    }
                    if let column = options.groupColumn, groupIndex == nil {
                        guard let i = header.firstIndex(of: column), i != labelIndex, i != weightIndex else {
                            throw DataLoadError("\(path): no query column named '\(column)' in the header")
                        }
                        groupIndex = i
                    }
                    names = header.enumerated().filter {
                        $0.offset != labelIndex && $0.offset != weightIndex && $0.offset != groupIndex
                    }.map(\.element)
                } else if labelIndex == nil && !unlabelled {
                    throw DataLoadError("\(path): label column '\(options.labelColumn)' needs a header line")
                } else if let column = options.weightColumn, weightIndex == nil {
                    throw DataLoadError("\(path): weight column '\(column)' needs a header line")
                } else if let column = options.groupColumn, groupIndex == nil {
                    throw DataLoadError("\(path): query column '\(column)' needs a header line")
                }
                if let g = groupIndex, g == labelIndex || g == weightIndex {
                    throw DataLoadError("\(path): the query column is also the label or weight column")
                }
                let kept =
                    columnCount - (labelIndex == nil ? 0 : 1) - (weightIndex == nil ? 0 : 1)
                    - (groupIndex == nil ? 0 : 1)
                matrix = DenseMatrix(columns: kept, featureNames: names)
                if let size = FileSystem.fileSize(path) { matrix!.reserve(rows: size / max(1, line.count + 1) + 16) }
                if isHeader { continue }
            }
            let expected =
                matrix!.columns + (labelIndex == nil ? 0 : 1) + (weightIndex == nil ? 0 : 1)
                + (groupIndex == nil ? 0 : 1)
            guard fields.count == expected else {
                throw DataLoadError("\(path):\(lineNumber): \(fields.count) fields, expected \(expected)")
            }
            row.removeAll(keepingCapacity: true)
            for (i, range) in fields.enumerated() {
                if i == groupIndex {
                    let id = unquote(
                        String(decoding: UnsafeRawBufferPointer(rebasing: line[range.0..<range.1]), as: UTF8.self))
                    try groups.add(id, line: lineNumber)
                    continue
                }
                guard let x = parseFloat(line, range) else {
                    let text = String(
                        decoding: UnsafeRawBufferPointer(rebasing: line[range.0..<range.1]), as: UTF8.self)
                    throw DataLoadError("\(path):\(lineNumber): field \(i + 1) '\(text.prefix(30))' is not a number")
                }
                if i == labelIndex {
                    guard !x.isNaN else { throw DataLoadError("\(path):\(lineNumber): the label is missing") }
                    labels.append(x)
                } else if i == weightIndex {
                    guard x.isFinite && x >= 0 else {
                        throw DataLoadError("\(path):\(lineNumber): the weight must be a number 0 or more")
                    }
                    weights.append(x)
                } else {
                    row.append(x)
                }
            }
            if labelIndex == nil { labels.append(.nan) }
            matrix!.append(row: row)
        }
        guard let matrix, matrix.rows > 0 else { throw DataLoadError("\(path): no rows") }
        var data = LabeledData(features: matrix, labels: labels, weights: weightIndex == nil ? nil : weights)
        if groupIndex != nil { data.groups = groups.sizes }
        return data
    }

    @inline(__always)
    static func split(_ line: UnsafeRawBufferPointer, delimiter: UInt8, into fields: inout [(Int, Int)]) {
        fields.removeAll(keepingCapacity: true)
        var start = 0
        for i in 0..<line.count where line[i] == delimiter {
            fields.append((start, i))
            start = i + 1
        }
        fields.append((start, line.count))
    }

    /// A number, NaN for the spellings of missing, nil for anything else.
    @inline(__always)
    static func parseFloat(_ line: UnsafeRawBufferPointer, _ range: (Int, Int)) -> Float? {
        var (s, e) = range
        while s < e && (line[s] == 32 || line[s] == 34) { s += 1 }
        while e > s && (line[e - 1] == 32 || line[e - 1] == 34) { e -= 1 }
        if s == e { return .nan }
        let field = UnsafeRawBufferPointer(rebasing: line[s..<e])
        if let (x, end) = DecimalNumber.parse(field, at: field[0] == UInt8(ascii: "+") ? 1 : 0), end == field.count {
            return Float(x)
        }
        switch String(decoding: field, as: UTF8.self).lowercased() {
        case "na", "nan", "null", "?", "n/a", "none": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return nil
        }
    }

    static func unquote(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        if t.count >= 2 && t.hasPrefix("\"") && t.hasSuffix("\"") { t = String(t.dropFirst().dropLast()) }
        return t
    }
}

/// LibSVM: `label index:value index:value ...`. Indexes are column numbers as written (a file
/// numbered from 1 gets an empty column 0, which training ignores); absent entries are 0, as the
/// format means.
public enum LibSVMLoader {
    public static func load(path: String) throws -> LabeledData {
        let reader = try LineReader(path: path)
        var labels: [Float] = []
        var entries: [[(Int, Float)]] = []
        var maxIndex = -1
        var lineNumber = 0
        while let line = try reader.next() {
            lineNumber += 1
            var tokens: [(Int, Int)] = []
            DelimitedLoader.split(line, delimiter: 32, into: &tokens)
            tokens = tokens.filter { $0.1 > $0.0 }
            guard let first = tokens.first else { continue }
            guard let label = DelimitedLoader.parseFloat(line, first), !label.isNaN else {
                throw DataLoadError("\(path):\(lineNumber): the line does not start with a label")
            }
            var row: [(Int, Float)] = []
            for (s, e) in tokens.dropFirst() {
                let token = UnsafeRawBufferPointer(rebasing: line[s..<e])
                guard let colon = token.firstIndex(of: UInt8(ascii: ":")),
                    let index = Int(String(decoding: token[..<colon], as: UTF8.self)), index >= 0,
                    let value = DelimitedLoader.parseFloat(line, (s + colon + 1, e))
                else {
                    throw DataLoadError(
                        "\(path):\(lineNumber): '\(String(decoding: token, as: UTF8.self))' is not index:value")
                }
                guard index < 10_000_000 else {
                    throw DataLoadError("\(path):\(lineNumber): index \(index) is too large")
                }
                row.append((index, value))
                maxIndex = max(maxIndex, index)
            }
            labels.append(label)
            entries.append(row)
        }
        guard !labels.isEmpty else { throw DataLoadError("\(path): no rows") }
        let columns = maxIndex + 1
        var values = [Float](repeating: 0, count: labels.count * columns)
        for (r, row) in entries.enumerated() { for (c, v) in row { values[r * columns + c] = v } }
        return LabeledData(features: DenseMatrix(rows: labels.count, columns: columns, values: values), labels: labels)
    }
}
