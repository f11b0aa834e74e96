/// Parquet's physical types (the subset fsml reads and writes, plus the rest for messages).
public enum ParquetPhysicalType: Int32, Sendable, Equatable {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

/// How a column's physical values are to be read.
public enum ParquetLogicalType: Sendable, Equatable {
    case none
    case string
    /// INT64 microseconds since the epoch; `utc` is Parquet's isAdjustedToUTC.
    case timestampMicros(utc: Bool)
    case timestampMillis(utc: Bool)
}

public enum ParquetCodec: Int32, Sendable, Equatable, CaseIterable {
    case uncompressed = 0, snappy = 1, gzip = 2

    public var name: String {
        switch self {
        case .uncompressed: return "UNCOMPRESSED"
        case .snappy: return "SNAPPY"
        case .gzip: return "GZIP"
        }
    }
}

/// One column of a flat schema.
public struct ParquetColumn: Sendable, Equatable {
    public var name: String
    public var physical: ParquetPhysicalType
    public var logical: ParquetLogicalType
    public var optional: Bool

    public init(name: String, physical: ParquetPhysicalType, logical: ParquetLogicalType = .none, optional: Bool = true)
    {
        self.name = name
        self.physical = physical
        self.logical = logical
        self.optional = optional
    }

    public static func string(_ name: String, optional: Bool = true) -> ParquetColumn {
        ParquetColumn(name: name, physical: .byteArray, logical: .string, optional: optional)
    }

    public static func timestamp(_ name: String, optional: Bool = true) -> ParquetColumn {
        ParquetColumn(name: name, physical: .int64, logical: .timestampMicros(utc: true), optional: optional)
    }
}

/// A column's values for a number of rows. Rows that are null hold a placeholder value (0, false,
/// "") and are marked in `nulls`.
public enum ColumnValues: Sendable, Equatable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case byteArray([String])

    public var count: Int {
        switch self {
        case .boolean(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .float(let v): return v.count
        case .double(let v): return v.count
        case .byteArray(let v): return v.count
        }
    }

    var physical: ParquetPhysicalType {
        switch self {
        case .boolean: return .boolean
        case .int32: return .int32
        case .int64: return .int64
        case .float: return .float
        case .double: return .double
        case .byteArray: return .byteArray
        }
    }
}

public struct ColumnData: Sendable, Equatable {
    public var values: ColumnValues
    /// True where the row is null; nil when no row is.
    public var nulls: [Bool]?

    public init(_ values: ColumnValues, nulls: [Bool]? = nil) {
        self.values = values
        self.nulls = nulls.flatMap { $0.contains(true) ? $0 : nil }
    }

    public var count: Int { values.count }

    @inline(__always)
    public func isNull(_ row: Int) -> Bool { nulls?[row] ?? false }
}

public struct ParquetError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let fault: String

    public init(_ file: String, _ fault: String) {
        self.file = file
        self.fault = fault
    }

    public var description: String { "\(file): \(fault)" }
}

/// A column chunk's statistics, decoded by physical type.
public enum ParquetStatistic: Sendable, Equatable {
    case boolean(Bool)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    case bytes([UInt8])
}

public struct ColumnChunkInfo: Sendable, Equatable {
    public var min: ParquetStatistic?
    public var max: ParquetStatistic?
    public var nullCount: Int?
    public var codec: ParquetCodec?
    public var compressedBytes: Int
    public var uncompressedBytes: Int
}

public struct RowGroupInfo: Sendable, Equatable {
    public var rows: Int
    public var columns: [ColumnChunkInfo]
}

extension ColumnData {
    /// Rows of `a` then rows of `b` (same type).
    public static func concatenate(_ a: ColumnData, _ b: ColumnData) -> ColumnData {
        let nulls =
            (a.nulls ?? [Bool](repeating: false, count: a.count))
            + (b.nulls ?? [Bool](repeating: false, count: b.count))
        switch (a.values, b.values) {
        case (.boolean(let x), .boolean(let y)): return ColumnData(.boolean(x + y), nulls: nulls)
        case (.int32(let x), .int32(let y)): return ColumnData(.int32(x + y), nulls: nulls)
        case (.int64(let x), .int64(let y)): return ColumnData(.int64(x + y), nulls: nulls)
        case (.float(let x), .float(let y)): return ColumnData(.float(x + y), nulls: nulls)
        case (.double(let x), .double(let y)): return ColumnData(.double(x + y), nulls: nulls)
        case (.byteArray(let x), .byteArray(let y)): return ColumnData(.byteArray(x + y), nulls: nulls)
        default: return a
        }
    }
}
