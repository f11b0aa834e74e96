import Foundation
import FsmlCore
import Synchronization

/// Writes a Parquet file with a flat schema: one data page (v1) per column chunk, PLAIN or
/// dictionary (RLE_DICTIONARY) encoded, definition levels for optional columns, min/max/null-count
/// statistics per column chunk, and the chosen codec. The file is written beside its target and
/// renamed into place by `close()`, so readers never see a partial file.
public final class ParquetWriter {
    public let path: String
    public let columns: [ParquetColumn]
    public let codec: ParquetCodec
    public let dictionary: Bool
    private let metadata: [(String, String)]
    private let file: FileWriter
    private var offset: Int
    private var rowGroups: [RowGroupMeta] = []
    private var totalRows = 0
    private var closed = false
    /// `offset` after the last row group, readable from another thread (an encoder thread writes).
    private let published = Atomic<Int>(4)

    public init(
        path: String, columns: [ParquetColumn], codec: ParquetCodec = .snappy, dictionary: Bool = true,
        metadata: [(String, String)] = [], hashed: Bool = false
    ) throws {
        self.path = path
        self.columns = columns
        self.codec = codec
        self.dictionary = dictionary
        self.metadata = metadata
        file = try FileWriter(path: path, atomic: true)
        if hashed { file.digest = SHA256() }
        try file.write(Array("PAR1".utf8))
        offset = 4
    }

    public var rowsWritten: Int { totalRows }
    /// Decides whether `close()` may move the file into place (`FileWriter.publishGate`).
    public var publishGate: (@Sendable (_ move: () throws -> Void) throws -> Void)? {
        get { file.publishGate }
        set { file.publishGate = newValue }
    }
    /// With `hashed`: the SHA-256 state of the bytes written so far (all of them once closed).
    public var digest: SHA256? { file.digest }
    /// Bytes written so far (the footer comes on close). Safe to read while another thread writes
    /// row groups; it may then lag by one row group.
    public var bytesWritten: Int { published.load(ordering: .relaxed) }

    /// Writes one row group; every column must have the same number of rows.
    public func write(rowGroup data: [ColumnData]) throws {
        precondition(data.count == columns.count, "\(data.count) columns given, schema has \(columns.count)")
        let rows = data.first?.count ?? 0
        guard rows > 0 else { return }
        var chunks: [ColumnChunkMeta] = []
        for (c, column) in columns.enumerated() {
            let d = data[c]
            precondition(d.count == rows, "column \(column.name) has \(d.count) rows, expected \(rows)")
            precondition(
                d.values.physical == column.physical,
                "column \(column.name) holds \(d.values.physical), declared \(column.physical)")
            precondition(column.optional || d.nulls == nil, "column \(column.name) is required but has nulls")
            chunks.append(try writeChunk(column, d))
        }
        rowGroups.append(RowGroupMeta(rows: rows, chunks: chunks))
        totalRows += rows
        published.store(offset, ordering: .relaxed)
    }

    private func writeChunk(_ column: ParquetColumn, _ data: ColumnData) throws -> ColumnChunkMeta {
        let rows = data.count
        let nullCount = data.nulls?.filter { $0 }.count ?? 0
        // Values: a dictionary when it pays, else plain.
        let dictionary = dictionary ? DictionaryBuilder.build(data) : nil
        // The extremes of the distinct values are the chunk's: fewer to compare.
        let stats = Statistics.of(dictionary.map { ColumnData($0.0) } ?? data)
        var meta = ColumnChunkMeta(
            column: column, numValues: rows, nullCount: nullCount, stats: stats, encodings: [], dictionaryOffset: nil,
            dataOffset: 0, compressed: 0, uncompressed: 0, firstOffset: offset)
        var valueBytes: [UInt8] = []
        var encoding = Encoding.plain
        if let (dict, indexes) = dictionary {
            var dictBytes: [UInt8] = []
            PlainEncoding.encode(dict, skipping: nil, into: &dictBytes)
            meta.dictionaryOffset = offset
            try writePage(body: dictBytes, meta: &meta) { w, size, crc in
                w.i32(1, PageType.dictionary)
                w.i32(2, Int32(dictBytes.count))
                w.i32(3, size)
                w.i32(4, crc)
                w.struct(7) { d in
                    d.i32(1, Int32(dict.count))
                    d.i32(2, Encoding.plain)
                }
            }
            let width = RLEHybrid.bitWidth(max(dict.count - 1, 0))
            valueBytes.append(UInt8(width))
            RLEHybrid.encode(indexes, bitWidth: width, into: &valueBytes)
            encoding = Encoding.rleDictionary
            meta.encodings = [Encoding.plain, Encoding.rle, Encoding.rleDictionary]
        } else {
            PlainEncoding.encode(data.values, skipping: data.nulls, into: &valueBytes)
            meta.encodings = [Encoding.plain, Encoding.rle]
        }
        var page: [UInt8] = []
        if column.optional {
            var levels: [UInt8] = []
            let defined = (0..<rows).map { data.isNull($0) ? UInt32(0) : 1 }
            RLEHybrid.encode(defined, bitWidth: 1, into: &levels)
            PlainEncoding.appendLE(UInt64(levels.count), 4, &page)
            page.append(contentsOf: levels)
        }
        page.append(contentsOf: valueBytes)
        meta.dataOffset = offset
        let valueEncoding = encoding
        try writePage(body: page, meta: &meta) { w, size, crc in
            w.i32(1, PageType.data)
            w.i32(2, Int32(page.count))
            w.i32(3, size)
            w.i32(4, crc)
            w.struct(5) { d in
                d.i32(1, Int32(rows))
                d.i32(2, valueEncoding)
                d.i32(3, Encoding.rle)
                d.i32(4, Encoding.rle)
            }
        }
        return meta
    }

    /// Compresses a page body, then writes its header (which `header` fills, given the compressed
    /// size and the CRC-32 of the compressed bytes) and the body.
    private func writePage(
        body: [UInt8], meta: inout ColumnChunkMeta, header: (inout ThriftWriter, Int32, Int32) -> Void
    ) throws {
        let packed: [UInt8]
        switch codec {
        case .uncompressed: packed = body
        case .snappy: packed = body.withUnsafeBytes { Snappy.compress($0) }
        case .gzip: packed = try Gzip.compress(body, level: 6)
        }
        var w = ThriftWriter()
        w.beginStruct()
        // The header's crc covers the page as stored: a flipped bit is an error on read.
        header(&w, Int32(packed.count), Int32(bitPattern: CRC32.of(packed)))
        w.endStruct()
        try file.write(w.bytes)
        try file.write(packed)
        offset += w.bytes.count + packed.count
        meta.compressed += w.bytes.count + packed.count
        meta.uncompressed += w.bytes.count + body.count
    }

    /// Writes the footer and moves the file into place.
    @discardableResult
    public func close() throws -> Int {
        guard !closed else { return offset }
        closed = true
        var w = ThriftWriter()
        w.beginStruct()
        w.i32(1, 1)
        w.structList(2, [nil] + columns.map { Optional($0) }) { e, column in
            guard let column else {
                e.string(4, "schema")
                e.i32(5, Int32(self.columns.count))
                return
            }
            e.i32(1, column.physical.rawValue)
            e.i32(3, column.optional ? 1 : 0)
            e.string(4, column.name)
            switch column.logical {
            case .string:
                e.i32(6, 0)  // UTF8
                e.struct(10) { l in l.struct(1) { _ in } }
            case .timestampMicros(let utc):
                if utc { e.i32(6, 10) }  // TIMESTAMP_MICROS
                e.struct(10) { l in
                    l.struct(8) { t in
                        t.bool(1, utc)
                        t.struct(2) { u in u.struct(2) { _ in } }
                    }
                }
            case .timestampMillis(let utc):
                if utc { e.i32(6, 9) }  // TIMESTAMP_MILLIS
                e.struct(10) { l in
                    l.struct(8) { t in
                        t.bool(1, utc)
                        t.struct(2) { u in u.struct(1) { _ in } }
                    }
                }
            case .none:
                break
            }
        }
        w.i64(3, Int64(totalRows))
        w.structList(4, Array(rowGroups.enumerated())) { g, item in
            let (ordinal, group) = item
            g.structList(1, group.chunks) { c, chunk in
                c.i64(2, Int64(chunk.firstOffset))
                c.struct(3) { m in
                    m.i32(1, chunk.column.physical.rawValue)
                    m.i32List(2, chunk.encodings)
                    m.stringList(3, [chunk.column.name])
                    m.i32(4, self.codec.rawValue)
                    m.i64(5, Int64(chunk.numValues))
                    m.i64(6, Int64(chunk.uncompressed))
                    m.i64(7, Int64(chunk.compressed))
                    m.i64(9, Int64(chunk.dataOffset))
                    if let d = chunk.dictionaryOffset { m.i64(11, Int64(d)) }
                    m.struct(12) { s in
                        s.i64(3, Int64(chunk.nullCount))
                        if let (lo, hi) = chunk.stats {
                            s.binary(5, hi)
                            s.binary(6, lo)
                        }
                    }
                }
            }
            g.i64(2, Int64(group.chunks.reduce(0) { $0 + $1.uncompressed }))
            g.i64(3, Int64(group.rows))
            g.i64(5, Int64(group.chunks.first?.firstOffset ?? 4))
            g.i64(6, Int64(group.chunks.reduce(0) { $0 + $1.compressed }))
            g.i32(7, Int32(ordinal))
        }
        w.structList(5, metadata + [(FooterChecksum.key, FooterChecksum.placeholder)]) { kv, pair in
            kv.string(1, pair.0)
            kv.string(2, pair.1)
        }
        w.string(6, "fsml version \(FsmlVersion.current)")
        // Column orders: min/max statistics follow each type's defined (unsigned for strings) order.
        w.structList(7, columns) { o, _ in o.struct(1) { _ in } }
        w.endStruct()
        var footer = w.bytes
        FooterChecksum.seal(&footer)
        try file.write(footer)
        var tail: [UInt8] = []
        PlainEncoding.appendLE(UInt64(footer.count), 4, &tail)
        tail.append(contentsOf: Array("PAR1".utf8))
        try file.write(tail)
        try file.close()
        offset += footer.count + 8
        return offset
    }

    struct RowGroupMeta {
        var rows: Int
        var chunks: [ColumnChunkMeta]
    }

    struct ColumnChunkMeta {
        var column: ParquetColumn
        var numValues: Int
        var nullCount: Int
        var stats: ([UInt8], [UInt8])?
        var encodings: [Int32]
        var dictionaryOffset: Int?
        var dataOffset: Int
        var compressed: Int
        var uncompressed: Int
        var firstOffset: Int
    }
}

enum PageType {
    static let data: Int32 = 0
    static let dictionary: Int32 = 2
    static let dataV2: Int32 = 3
}

enum Encoding {
    static let plain: Int32 = 0
    static let plainDictionary: Int32 = 2
    static let rle: Int32 = 3
    static let rleDictionary: Int32 = 8
}

/// Dictionaries for column chunks whose values repeat: at most half as many distinct values as
/// non-null values (and not too many). Values are told apart by their bytes (a float's bit
/// pattern, a string's UTF-8), in an open-addressing table of dictionary indexes: a chunk is
/// hashed value by value, where `Dictionary`'s seeded SipHash would cost several times more.
enum DictionaryBuilder {
    static func build(_ data: ColumnData) -> (ColumnValues, [UInt32])? {
        switch data.values {
        case .boolean: return nil
        case .int32(let v):
            return make(data, v, hash: { UInt64(UInt32(bitPattern: $0)) }, same: ==).map { (.int32($0), $1) }
        case .int64(let v): return make(data, v, hash: { UInt64(bitPattern: $0) }, same: ==).map { (.int64($0), $1) }
        case .float(let v):
            return make(data, v, hash: { UInt64($0.bitPattern) }, same: { $0.bitPattern == $1.bitPattern }).map {
                (.float($0), $1)
            }
        case .double(let v):
            return make(data, v, hash: { $0.bitPattern }, same: { $0.bitPattern == $1.bitPattern }).map {
                (.double($0), $1)
            }
        case .byteArray(let v): return make(data, v, hash: textHash, same: sameBytes).map { (.byteArray($0), $1) }
        }
    }

    private static func make<T>(
        _ data: ColumnData, _ values: [T], hash: (T) -> UInt64, same: (T, T) -> Bool
    ) -> ([T], [UInt32])? {
        let rows = data.count
        let nonNull = rows - (data.nulls?.filter { $0 }.count ?? 0)
        guard nonNull >= 2 else { return nil }
        let limit = min(nonNull / 2, 1 << 20)
        var table = [UInt32](repeating: .max, count: 1024)
        var dict: [T] = []
        var out: [UInt32] = []
        out.reserveCapacity(nonNull)
        // A column of mostly distinct values (ids, measurements) shows it early: give up after
        // a probe rather than hash half the chunk first.
        let probe = 2_048
        for i in 0..<rows where !data.isNull(i) {
            if out.count == probe && dict.count * 4 > probe * 3 { return nil }
            let value = values[i]
            var mask = table.count - 1
            var slot = Int(truncatingIfNeeded: StableHash.mix(hash(value))) & mask
            while table[slot] != .max && !same(dict[Int(table[slot])], value) { slot = (slot + 1) & mask }
            if table[slot] != .max {
                out.append(table[slot])
                continue
            }
            guard dict.count < limit else { return nil }
            table[slot] = UInt32(dict.count)
            out.append(UInt32(dict.count))
            dict.append(value)
            if dict.count * 2 > table.count {
                // At most half full: probe runs stay short.
                table = [UInt32](repeating: .max, count: table.count * 2)
                mask = table.count - 1
                for (d, v) in dict.enumerated() {
                    var at = Int(truncatingIfNeeded: StableHash.mix(hash(v))) & mask
                    while table[at] != .max { at = (at + 1) & mask }
                    table[at] = UInt32(d)
                }
            }
        }
        return (dict, out)
    }

    private static func textHash(_ s: String) -> UInt64 {
        s.utf8.withContiguousStorageIfAvailable { StableHash.hash(bytes: $0) } ?? StableHash.hash(bytes: s.utf8)
    }

    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
            }
        }
        if case .some(.some(let same)) = fast { return same }
        return a.utf8.elementsEqual(b.utf8)
    }
}

/// Min and max of a column chunk, PLAIN-encoded (byte arrays without their length), in the order
/// Parquet defines for the type: signed for integers, IEEE without NaN for floats, unsigned bytes
/// for strings.
enum Statistics {
    /// Unsigned byte order of the UTF-8 text (Parquet's order for strings; not Swift's `<`).
    static func bytewiseLess(_ a: String, _ b: String) -> Bool {
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return c < 0 || (c == 0 && x.count < y.count)
            }
        }
        // Strings not stored as UTF-8 (bridged ones) compare byte by byte.
        return (fast ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func of(_ data: ColumnData) -> ([UInt8], [UInt8])? {
        let rows = data.count
        func encode(_ v: ColumnValues) -> [UInt8] {
            var out: [UInt8] = []
            PlainEncoding.encode(v, skipping: nil, into: &out)
            return out
        }
        // By index, so that no value is copied (a string retained) while looking.
        func extremes<T>(_ values: [T], _ less: (T, T) -> Bool, skip: (T) -> Bool = { _ in false }) -> (T, T)? {
            var lo = -1
            var hi = -1
            for i in 0..<rows where !data.isNull(i) && !skip(values[i]) {
                if lo < 0 {
                    (lo, hi) = (i, i)
                } else if less(values[i], values[lo]) {
                    lo = i
                } else if less(values[hi], values[i]) {
                    hi = i
                }
            }
            return lo < 0 ? nil : (values[lo], values[hi])
        }
        switch data.values {
        case .boolean(let v):
            guard let (lo, hi) = extremes(v, { !$0 && $1 }) else { return nil }
            return (encode(.boolean([lo])), encode(.boolean([hi])))
        case .int32(let v):
            guard let (lo, hi) = extremes(v, <) else { return nil }
            return (encode(.int32([lo])), encode(.int32([hi])))
        case .int64(let v):
            guard let (lo, hi) = extremes(v, <) else { return nil }
            return (encode(.int64([lo])), encode(.int64([hi])))
        case .float(let v):
            guard let (lo, hi) = extremes(v, <, skip: { $0.isNaN }) else { return nil }
            return (encode(.float([lo])), encode(.float([hi])))
        case .double(let v):
            guard let (lo, hi) = extremes(v, <, skip: { $0.isNaN }) else { return nil }
            return (encode(.double([lo])), encode(.double([hi])))
        case .byteArray(let v):
            guard let (lo, hi) = extremes(v, bytewiseLess) else { return nil }
            return (Array(lo.utf8), Array(hi.utf8))
        }
    }
}
