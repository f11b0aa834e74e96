import Foundation
import FsmlCore

/// Reads Parquet files with a flat schema: data pages v1 and v2, PLAIN, PLAIN_DICTIONARY /
/// RLE_DICTIONARY and (for booleans) RLE encodings, UNCOMPRESSED, SNAPPY and GZIP codecs, optional
/// columns. Files written by pyarrow, DuckDB and fsml read back. A corrupt or truncated file gives
/// a `ParquetError` naming the file and the fault; nothing in it can trap the reader.
public final class ParquetReader {
    public let path: String
    public let columns: [ParquetColumn]
    public let rowGroups: [RowGroupInfo]
    public let metadata: [String: String]
    public let createdBy: String?
    private let fd: Int32
    private let fileSize: Int
    private var chunkLocations: [[(offset: Int, length: Int, codec: Int32, values: Int)]] = []

    public var numRows: Int { rowGroups.reduce(0) { $0 + $1.rows } }

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ParquetError(path, "cannot open: \(String(cString: strerror(errno)))") }
        var st = stat()
        fstat(fd, &st)
        fileSize = Int(st.st_size)
        do {
            guard fileSize >= 12 else { throw ParquetError(path, "too short to be a Parquet file (\(fileSize) bytes)") }
            let tail = try Self.read(fd, path: path, at: fileSize - 8, count: 8)
            guard Array(tail[4..<8]) == Array("PAR1".utf8) else {
                throw ParquetError(path, "no Parquet footer (missing PAR1 magic at the end; truncated?)")
            }
            let head = try Self.read(fd, path: path, at: 0, count: 4)
            guard head == Array("PAR1".utf8) else { throw ParquetError(path, "not a Parquet file (no PAR1 magic)") }
            let footerLength = Int(
                UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
            guard footerLength > 0, footerLength <= fileSize - 12 else {
                throw ParquetError(path, "footer length \(footerLength) does not fit in \(fileSize) bytes")
            }
            let footer = try Self.read(fd, path: path, at: fileSize - 8 - footerLength, count: footerLength)
            if FooterChecksum.verify(footer) == false {
                throw ParquetError(path, "the footer fails its checksum (the file is corrupt)")
            }
            let meta: [Int16: ThriftValue]
            do {
                meta = try footer.withUnsafeBytes { buf in
                    var r = ThriftReader(buf)
                    return try r.readStruct()
                }
            } catch let e as ThriftError {
                throw ParquetError(path, "corrupt footer: \(e.description)")
            }
            (columns, rowGroups, chunkLocations) = try Self.decodeMetadata(meta, path: path)
            var kv: [String: String] = [:]
            for item in meta[5]?.list ?? [] {
                if let k = item[1]?.string { kv[k] = item[2]?.string ?? "" }
            }
            metadata = kv
            createdBy = meta[6]?.string
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    private static func read(_ fd: Int32, path: String, at offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ParquetError(path, "file ends at byte \(offset + done), expected \(offset + count)")
            }
            done += n
        }
        return out
    }

    private static func decodeMetadata(
        _ meta: [Int16: ThriftValue], path: String
    ) throws -> (
        [ParquetColumn], [RowGroupInfo], [[(offset: Int, length: Int, codec: Int32, values: Int)]]
    ) {
        guard let schema = meta[2]?.list, !schema.isEmpty else { throw ParquetError(path, "footer has no schema") }
        var columns: [ParquetColumn] = []
        for element in schema.dropFirst() {
            guard let name = element[4]?.string else { throw ParquetError(path, "a schema element has no name") }
            if let children = element[5]?.int, children > 0 {
                throw ParquetError(path, "column '\(name)' is nested; only flat schemas are supported")
            }
            guard let raw = element[1]?.int,
                let physical = ParquetPhysicalType(rawValue: Int32(truncatingIfNeeded: raw))
            else {
                throw ParquetError(path, "column '\(name)' has no physical type")
            }
            let repetition = element[3]?.int ?? 0
            guard repetition != 2 else {
                throw ParquetError(path, "column '\(name)' is repeated; only flat schemas are supported")
            }
            var logical = ParquetLogicalType.none
            if let l = element[10] {
                if l[1] != nil {
                    logical = .string
                } else if let t = l[8] {
                    let utc = t[1]?.bool ?? false
                    if t[2]?[2] != nil { logical = .timestampMicros(utc: utc) }
                    if t[2]?[1] != nil { logical = .timestampMillis(utc: utc) }
                }
            } else if let converted = element[6]?.int {
                switch converted {
                case 0: logical = .string
                case 9: logical = .timestampMillis(utc: true)
                case 10: logical = .timestampMicros(utc: true)
                default: break
                }
            }
            columns.append(ParquetColumn(name: name, physical: physical, logical: logical, optional: repetition == 1))
        }
        var groups: [RowGroupInfo] = []
        var locations: [[(offset: Int, length: Int, codec: Int32, values: Int)]] = []
        for (g, group) in (meta[4]?.list ?? []).enumerated() {
            guard let chunks = group[1]?.list, chunks.count == columns.count else {
                throw ParquetError(path, "row group \(g) does not have one chunk per column")
            }
            guard let rows = group[3]?.int, rows >= 0 else {
                throw ParquetError(path, "row group \(g) has no row count")
            }
            var infos: [ColumnChunkInfo] = []
            var locs: [(offset: Int, length: Int, codec: Int32, values: Int)] = []
            for (c, chunk) in chunks.enumerated() {
                guard let m = chunk[3] else {
                    throw ParquetError(
                        path,
                        "row group \(g) column \(columns[c].name) has no metadata (external chunks are not supported)")
                }
                let codecRaw = Int32(truncatingIfNeeded: m[4]?.int ?? 0)
                let start = Int(m[11]?.int ?? m[9]?.int ?? -1)
                let length = Int(m[7]?.int ?? -1)
                guard start >= 4, length >= 0, start + length <= Int.max / 2 else {
                    throw ParquetError(path, "row group \(g) column \(columns[c].name) has no valid offsets")
                }
                locs.append((start, length, codecRaw, Int(m[5]?.int ?? 0)))
                let stats = m[12]
                let physical = columns[c].physical
                infos.append(
                    ColumnChunkInfo(
                        min: (stats?[6]?.binary ?? stats?[2]?.binary).flatMap { decodeStatistic($0, physical) },
                        max: (stats?[5]?.binary ?? stats?[1]?.binary).flatMap { decodeStatistic($0, physical) },
                        nullCount: stats?[3]?.int.map { Int($0) }, codec: ParquetCodec(rawValue: codecRaw),
                        compressedBytes: length, uncompressedBytes: Int(m[6]?.int ?? 0)))
            }
            groups.append(RowGroupInfo(rows: Int(rows), columns: infos))
            locations.append(locs)
        }
        return (columns, groups, locations)
    }

    static func decodeStatistic(_ b: [UInt8], _ type: ParquetPhysicalType) -> ParquetStatistic? {
        func le(_ n: Int) -> UInt64? {
            guard b.count == n else { return nil }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(b[k]) << UInt64(8 * k) }
            return v
        }
        switch type {
        case .boolean: return b.count == 1 ? .boolean(b[0] != 0) : nil
        case .int32: return le(4).map { .int32(Int32(bitPattern: UInt32($0))) }
        case .int64: return le(8).map { .int64(Int64(bitPattern: $0)) }
        case .float: return le(4).map { .float(Float(bitPattern: UInt32($0))) }
        case .double: return le(8).map { .double(Double(bitPattern: $0)) }
        case .byteArray: return .bytes(b)
        default: return nil
        }
    }

    public func columnIndex(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// Reads the given columns (all when nil) of one row group.
    public func read(rowGroup g: Int, columns wanted: [Int]? = nil) throws -> [ColumnData] {
        guard g >= 0 && g < rowGroups.count else { throw ParquetError(path, "no row group \(g)") }
        return try (wanted ?? Array(columns.indices)).map { c in
            guard c >= 0 && c < columns.count else { throw ParquetError(path, "no column \(c)") }
            return try readChunk(group: g, column: c)
        }
    }

    private func readChunk(group g: Int, column c: Int) throws -> ColumnData {
        let loc = chunkLocations[g][c]
        let column = columns[c]
        let rows = rowGroups[g].rows
        let place = "row group \(g) column \(column.name)"
        guard loc.offset + loc.length <= fileSize - 8 else {
            throw ParquetError(path, "\(place) runs past the end of the file (truncated?)")
        }
        let bytes = try Self.read(fd, path: path, at: loc.offset, count: loc.length)
        var values: ColumnValues?
        var nulls: [Bool] = []
        var dictionary: ColumnValues?
        var read = 0
        try bytes.withUnsafeBytes { buf in
            var at = 0
            while read < rows {
                guard at < buf.count else { throw ParquetError(path, "\(place) ends after \(read) of \(rows) values") }
                var reader = ThriftReader(buf, at: at)
                let header: [Int16: ThriftValue]
                do {
                    header = try reader.readStruct()
                } catch let e as ThriftError {
                    throw ParquetError(path, "\(place): corrupt page header: \(e.description)")
                }
                at = reader.i
                guard let type = header[1]?.int, let compressedSize = header[3]?.int,
                    let uncompressedSize = header[2]?.int,
                    compressedSize >= 0, uncompressedSize >= 0, compressedSize <= buf.count - at
                else {
                    throw ParquetError(path, "\(place): a page header is incomplete or its page runs past the chunk")
                }
                let body = UnsafeRawBufferPointer(rebasing: buf[at..<at + Int(compressedSize)])
                at += Int(compressedSize)
                // Files that carry page checksums (fsml's do) are checked: a flipped bit is an
                // error naming the file, never different values.
                if let crc = header[4]?.int, UInt32(truncatingIfNeeded: crc) != CRC32.of(body) {
                    throw ParquetError(path, "\(place): a page fails its checksum (the file is corrupt)")
                }
                switch type {
                case Int64(PageType.dictionary):
                    let page = try decompress(body, codec: loc.codec, size: Int(uncompressedSize), place: place)
                    let count = Int(header[7]?[1]?.int ?? 0)
                    dictionary = try page.withUnsafeBytes { p in
                        do {
                            return try PlainEncoding.decode(p, type: column.physical, count: count)
                        } catch {
                            throw ParquetError(
                                path,
                                "\(place): dictionary: \((error as? PlainEncoding.CorruptError)?.what ?? "\(error)")")
                        }
                    }
                case Int64(PageType.data), Int64(PageType.dataV2):
                    let isV2 = type == Int64(PageType.dataV2)
                    guard let h = header[isV2 ? 8 : 5], let count = h[1]?.int, count >= 0, count <= rows - read else {
                        throw ParquetError(path, "\(place): a data page header is missing or claims too many values")
                    }
                    let (pageValues, pageNulls) = try decodeDataPage(
                        body, header: h, v2: isV2, count: Int(count), column: column, codec: loc.codec,
                        uncompressed: Int(uncompressedSize), dictionary: dictionary, place: place)
                    values = values.map { append($0, pageValues) } ?? pageValues
                    nulls += pageNulls
                    read += Int(count)
                default:
                    continue  // index pages and unknown pages are skipped
                }
            }
        }
        return ColumnData(values ?? PlainEncoding.emptyValues(column.physical), nulls: nulls)
    }

    private func decompress(_ body: UnsafeRawBufferPointer, codec: Int32, size: Int, place: String) throws -> [UInt8] {
        switch codec {
        case ParquetCodec.uncompressed.rawValue:
            return Array(body)
        case ParquetCodec.snappy.rawValue:
            do {
                return try Snappy.decompress(body)
            } catch {
                throw ParquetError(path, "\(place): corrupt SNAPPY data")
            }
        case ParquetCodec.gzip.rawValue:
            do {
                return try Gzip.decompress(body, sizeHint: size)
            } catch {
                throw ParquetError(path, "\(place): corrupt GZIP data (\(error))")
            }
        default:
            let names = [3: "LZO", 4: "BROTLI", 5: "LZ4", 6: "ZSTD", 7: "LZ4_RAW"]
            throw ParquetError(
                path,
                "\(place): codec \(names[Int(codec)] ?? "\(codec)") is not supported (UNCOMPRESSED, SNAPPY, GZIP are)")
        }
    }

    private func decodeDataPage(
        _ body: UnsafeRawBufferPointer, header h: ThriftValue, v2: Bool, count: Int, column: ParquetColumn,
        codec: Int32,
        uncompressed: Int, dictionary: ColumnValues?, place: String
    ) throws -> (ColumnValues, [Bool]) {
        let encoding = Int32(truncatingIfNeeded: h[v2 ? 4 : 2]?.int ?? 0)
        var page: [UInt8]
        var valuesStart = 0
        var defined = [UInt32](repeating: 1, count: count)
        if v2 {
            // Levels come first, uncompressed; the values may be compressed.
            let defLength = Int(h[5]?.int ?? 0)
            let repLength = Int(h[6]?.int ?? 0)
            guard defLength >= 0, repLength == 0, defLength <= body.count else {
                throw ParquetError(path, "\(place): bad level lengths in a v2 page")
            }
            if column.optional {
                do {
                    defined = try RLEHybrid.decode(
                        UnsafeRawBufferPointer(rebasing: body[0..<defLength]), bitWidth: 1, count: count)
                } catch {
                    throw ParquetError(path, "\(place): corrupt definition levels")
                }
            }
            let valueBody = UnsafeRawBufferPointer(rebasing: body[defLength...])
            let isCompressed = h[7]?.bool ?? true
            page =
                isCompressed
                ? try decompress(valueBody, codec: codec, size: uncompressed - defLength, place: place)
                : Array(valueBody)
        } else {
            page = try decompress(body, codec: codec, size: uncompressed, place: place)
            if column.optional {
                guard page.count >= 4 else { throw ParquetError(path, "\(place): page too short for its levels") }
                let length = Int(UInt32(page[0]) | UInt32(page[1]) << 8 | UInt32(page[2]) << 16 | UInt32(page[3]) << 24)
                guard length <= page.count - 4 else {
                    throw ParquetError(path, "\(place): definition levels run past the page")
                }
                do {
                    defined = try page.withUnsafeBytes {
                        try RLEHybrid.decode(
                            UnsafeRawBufferPointer(rebasing: $0[4..<4 + length]), bitWidth: 1, count: count)
                    }
                } catch {
                    throw ParquetError(path, "\(place): corrupt definition levels")
                }
                valuesStart = 4 + length
            }
        }
        let present = defined.reduce(0) { $0 + Int($1 & 1) }
        let dense: ColumnValues = try page.withUnsafeBytes { buf in
            let p = UnsafeRawBufferPointer(rebasing: buf[valuesStart...])
            switch encoding {
            case Encoding.plain:
                do {
                    return try PlainEncoding.decode(p, type: column.physical, count: present)
                } catch {
                    throw ParquetError(path, "\(place): \((error as? PlainEncoding.CorruptError)?.what ?? "\(error)")")
                }
            case Encoding.plainDictionary, Encoding.rleDictionary:
                guard let dictionary else {
                    throw ParquetError(path, "\(place): dictionary-encoded page without a dictionary")
                }
                guard p.count >= 1 || present == 0 else {
                    throw ParquetError(path, "\(place): empty dictionary page data")
                }
                if present == 0 { return PlainEncoding.emptyValues(column.physical) }
                let indexes: [UInt32]
                do {
                    indexes = try RLEHybrid.decode(
                        UnsafeRawBufferPointer(rebasing: p[1...]), bitWidth: Int(p[0]), count: present)
                } catch {
                    throw ParquetError(path, "\(place): corrupt dictionary indexes")
                }
                guard let picked = PlainEncoding.gather(dictionary, indexes) else {
                    throw ParquetError(path, "\(place): a dictionary index is out of range")
                }
                return picked
            case Encoding.rle where column.physical == .boolean:
                // Booleans as RLE (what v2 pages use): a 4-byte length, then the hybrid.
                guard p.count >= 4 else { throw ParquetError(path, "\(place): boolean RLE data too short") }
                do {
                    let bits = try RLEHybrid.decode(
                        UnsafeRawBufferPointer(rebasing: p[4...]), bitWidth: 1, count: present)
                    return .boolean(bits.map { $0 != 0 })
                } catch {
                    throw ParquetError(path, "\(place): corrupt boolean RLE data")
                }
            default:
                let names = [
                    4: "BIT_PACKED", 5: "DELTA_BINARY_PACKED", 6: "DELTA_LENGTH_BYTE_ARRAY", 7: "DELTA_BYTE_ARRAY",
                    9: "BYTE_STREAM_SPLIT",
                ]
                throw ParquetError(path, "\(place): encoding \(names[Int(encoding)] ?? "\(encoding)") is not supported")
            }
        }
        guard dense.count == present else {
            throw ParquetError(path, "\(place): \(dense.count) values for \(present) defined rows")
        }
        let nulls = defined.map { $0 == 0 }
        return (present == count ? dense : PlainEncoding.spread(dense, nulls: nulls), nulls)
    }

    private func append(_ a: ColumnValues, _ b: ColumnValues) -> ColumnValues {
        switch (a, b) {
        case (.boolean(let x), .boolean(let y)): return .boolean(x + y)
        case (.int32(let x), .int32(let y)): return .int32(x + y)
        case (.int64(let x), .int64(let y)): return .int64(x + y)
        case (.float(let x), .float(let y)): return .float(x + y)
        case (.double(let x), .double(let y)): return .double(x + y)
        case (.byteArray(let x), .byteArray(let y)): return .byteArray(x + y)
        default: return a
        }
    }
}

extension PlainEncoding {
    static func emptyValues(_ type: ParquetPhysicalType) -> ColumnValues {
        switch type {
        case .boolean: return .boolean([])
        case .int32: return .int32([])
        case .int64, .int96: return .int64([])
        case .float: return .float([])
        case .double: return .double([])
        case .byteArray, .fixedLenByteArray: return .byteArray([])
        }
    }

    /// Values by dictionary index; nil when an index is out of range.
    static func gather(_ dictionary: ColumnValues, _ indexes: [UInt32]) -> ColumnValues? {
        func pick<T>(_ d: [T]) -> [T]? {
            var out: [T] = []
            out.reserveCapacity(indexes.count)
            for i in indexes {
                guard Int(i) < d.count else { return nil }
                out.append(d[Int(i)])
            }
            return out
        }
        switch dictionary {
        case .boolean(let d): return pick(d).map { .boolean($0) }
        case .int32(let d): return pick(d).map { .int32($0) }
        case .int64(let d): return pick(d).map { .int64($0) }
        case .float(let d): return pick(d).map { .float($0) }
        case .double(let d): return pick(d).map { .double($0) }
        case .byteArray(let d): return pick(d).map { .byteArray($0) }
        }
    }

    /// Spreads the non-null values over all rows, with placeholders where rows are null.
    static func spread(_ dense: ColumnValues, nulls: [Bool]) -> ColumnValues {
        func fill<T>(_ d: [T], _ placeholder: T) -> [T] {
            var out: [T] = []
            out.reserveCapacity(nulls.count)
            var k = 0
            for isNull in nulls {
                if isNull {
                    out.append(placeholder)
                } else {
                    out.append(d[k])
                    k += 1
                }
            }
            return out
        }
        switch dense {
        case .boolean(let d): return .boolean(fill(d, false))
        case .int32(let d): return .int32(fill(d, 0))
        case .int64(let d): return .int64(fill(d, 0))
        case .float(let d): return .float(fill(d, 0))
        case .double(let d): return .double(fill(d, 0))
        case .byteArray(let d): return .byteArray(fill(d, ""))
        }
    }
}
