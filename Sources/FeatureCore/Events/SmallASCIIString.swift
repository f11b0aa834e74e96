/// Short ASCII strings built straight from their bytes. On 64-bit platforms the standard library
/// keeps a string of at most 15 UTF-8 bytes inside the String value itself: two words, the bytes
/// in order, then a top byte that flags an immortal, small, ASCII string and holds the length (what
/// Swift's ABI fixes on Apple platforms, and the same source lays out on Linux). Most field values
/// of an event are that short, and `String(decoding:as:)` makes one through three calls that check
/// and copy the bytes again: a tenth of a line's parse. Built here, such a string is the very value
/// `String(decoding:as:)` makes; a check when first used compares the two, and where they differ
/// (or on another architecture) `make` declines and callers decode as usual.
enum SmallASCIIString {
    static let isAvailable: Bool = {
        #if arch(x86_64) || arch(arm64)
            guard MemoryLayout<String>.size == 16 else { return false }
            let samples = ["", "a", "US", "u_10293", "Windows!", "s_fd3b440351a5", "0123456789abcde"]
            return samples.allSatisfy { sample in
                var bytes = Array(sample.utf8)
                let count = bytes.count
                bytes += [UInt8](repeating: 0x55, count: 16)
                let made = bytes.withUnsafeBytes { build(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                return made == sample && made.utf8.count == count && Array(made.utf8) == Array(sample.utf8)
                    && made.hashValue == sample.hashValue
            }
        #else
            return false
        #endif
    }()

    /// The string of `bytes`, when they are at most 15 and all ASCII (the caller knows, from the
    /// scan) and 16 bytes may be read from their start; nil otherwise.
    @inline(__always)
    static func make(_ bytes: UnsafeRawBufferPointer, readable: Int, available: Bool) -> String? {
        guard available, bytes.count <= 15, readable >= 16 else { return nil }
        return build(bytes)
    }

    @inline(__always)
    private static func build(_ bytes: UnsafeRawBufferPointer) -> String {
        let n = bytes.count
        let base = bytes.baseAddress!
        var low = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        var high = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        if n < 8 {
            low &= (1 &<< UInt64(n &* 8)) &- 1
            high = 0
        } else {
            high &= (1 &<< UInt64((n &- 8) &* 8)) &- 1
        }
        high |= UInt64(0xE0 | n) &<< 56
        return unsafeBitCast((low, high), to: String.self)
    }
}
