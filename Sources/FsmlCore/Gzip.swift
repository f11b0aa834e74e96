import CZlib

public struct GzipError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// gzip (RFC 1952) through zlib. zlib keeps a pointer back to its z_stream, so the stream lives in
/// allocated memory that never moves, owned by a class.
public enum Gzip {
    /// One complete gzip member. Members concatenate into a valid gzip file, which is how large
    /// outputs are compressed in parallel and still byte-for-byte deterministic.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 6) throws -> [UInt8] {
        let deflater = try Deflater(level: level)
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 3 + 64)
        try deflater.deflate(input, finish: true) { out.append(contentsOf: $0) }
        return out
    }

    public static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0, level: level) }
    }

    /// Inflates every member of a gzip (or zlib) buffer.
    public static func decompress(_ input: UnsafeRawBufferPointer, sizeHint: Int = 0) throws -> [UInt8] {
        let inflater = try Inflater()
        var out: [UInt8] = []
        out.reserveCapacity(max(sizeHint, input.count * 4))
        try inflater.inflate(input) { out.append(contentsOf: $0) }
        guard inflater.atMemberEnd else { throw GzipError("truncated gzip data") }
        return out
    }

    public static func decompress(_ input: [UInt8], sizeHint: Int = 0) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, sizeHint: sizeHint) }
    }

    public static func isGzip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }
}

public final class Deflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output = [UInt8](repeating: 0, count: 1 << 16)

    public init(level: Int32 = 6) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits 15 + 16: write a gzip header and trailer.
        let rc = deflateInit2_(
            stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deallocate()
            throw GzipError("deflateInit2 failed (\(rc))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `input`, handing compressed bytes to `sink` as they are produced; `finish` ends
    /// the member.
    public func deflate(
        _ input: UnsafeRawBufferPointer, finish: Bool, sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let base = input.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
        stream.pointee.next_in = base
        stream.pointee.avail_in = uInt(input.count)
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        let capacity = output.count
        while true {
            let (rc, produced): (Int32, Int) = output.withUnsafeMutableBytes { buf in
                stream.pointee.next_out = buf.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(capacity)
                let rc = CZlib.deflate(stream, flush)
                return (rc, capacity - Int(stream.pointee.avail_out))
            }
            guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                throw GzipError("deflate failed (\(rc))")
            }
            if produced > 0 {
                try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            if finish {
                if rc == Z_STREAM_END { break }
            } else if stream.pointee.avail_in == 0 && produced < capacity {
                break
            }
        }
        if finish { deflateReset(stream) }
    }
}

public final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output = [UInt8](repeating: 0, count: 1 << 17)
    /// True between members: nothing of a member is pending.
    public private(set) var atMemberEnd = true

    public init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits 15 + 32: detect gzip or zlib headers.
        let rc = inflateInit2_(stream, 47, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            stream.deallocate()
            throw GzipError("inflateInit2 failed (\(rc))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates a chunk of compressed input (any split of the file), across member boundaries.
    public func inflate(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        let capacity = output.count
        var produced = 0
        // zlib may hold output back when the buffer fills, so go on while it does.
        while stream.pointee.avail_in > 0 || produced == capacity {
            let rc: Int32
            (rc, produced) = output.withUnsafeMutableBytes { buf in
                stream.pointee.next_out = buf.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(capacity)
                let rc = CZlib.inflate(stream, Z_NO_FLUSH)
                return (rc, capacity - Int(stream.pointee.avail_out))
            }
            if produced > 0 {
                atMemberEnd = false
                try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
            }
            switch rc {
            case Z_STREAM_END:
                atMemberEnd = true
                inflateReset(stream)
            case Z_OK:
                if produced == 0 { atMemberEnd = false }
            case Z_BUF_ERROR:
                if produced == 0 && stream.pointee.avail_in > 0 { throw GzipError("gzip data is corrupt") }
                if produced == 0 { return }
            case Z_DATA_ERROR:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
                throw GzipError("gzip data is corrupt: \(message)")
            default:
                throw GzipError("inflate failed (\(rc))")
            }
        }
    }
}
