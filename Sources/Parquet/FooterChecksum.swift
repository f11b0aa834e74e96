import FsmlCore

/// A CRC-32 over a Parquet footer, kept in the footer's own key-value metadata
/// (`fsml.footer_crc32`), computed with its eight hex digits as zeros. Page checksums cover the
/// data; this covers the schema and offsets, where one flipped bit could otherwise turn a column
/// nullable or its timestamps into another unit. Other readers ignore the key.
enum FooterChecksum {
    static let key = "fsml.footer_crc32"
    static let placeholder = "00000000"

    /// Where the eight digits are in an encoded footer: after the key and the value's field
    /// header (compact binary, field delta 1) and length (8).
    static func digitsRange(in footer: [UInt8]) -> Range<Int>? {
        let pattern = [0x18, UInt8(key.utf8.count)] + Array(key.utf8) + [0x18, 0x08]
        guard footer.count >= pattern.count + 8 else { return nil }
        var i = footer.count - pattern.count - 8
        while i >= 0 {
            if footer[i] == pattern[0] && Array(footer[i..<i + pattern.count]) == pattern {
                return (i + pattern.count)..<(i + pattern.count + 8)
            }
            i -= 1
        }
        return nil
    }

    /// Replaces the placeholder with the checksum of the footer.
    static func seal(_ footer: inout [UInt8]) {
        guard let range = digitsRange(in: footer) else { return }
        let crc = CRC32.of(footer)
        let hex = Array(String(crc, radix: 16).leftPadded(to: 8).utf8)
        footer.replaceSubrange(range, with: hex)
    }

    /// Whether the footer matches its checksum; nil when it carries none (another writer's file).
    static func verify(_ footer: [UInt8]) -> Bool? {
        guard let range = digitsRange(in: footer),
            let stored = UInt32(String(decoding: footer[range], as: UTF8.self), radix: 16)
        else { return nil }
        var zeroed = footer
        zeroed.replaceSubrange(range, with: Array(placeholder.utf8))
        return CRC32.of(zeroed) == stored
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
