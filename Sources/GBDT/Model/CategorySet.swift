/// A set of categories as a bitset of 32-bit words, LightGBM's `cat_threshold`: category c is in
/// the set when bit c mod 32 of word c / 32 is set. A categorical split sends the rows whose
/// category is in its set left, and every other row right: other categories, negative values and
/// missing values (LightGBM's rule for its NaN missing type). A value's category is its integer
/// part (C's truncating conversion, as LightGBM takes it).
public enum CategorySet {
    /// The category of a value, or nil for a value that is no category (NaN, negative, too large).
    @inline(__always)
    public static func category(_ x: Float) -> Int? {
        guard x.isFinite, x > -1, x < 2_147_483_648 else { return nil }
        return Int(x.rounded(.towardZero))
    }

    @inline(__always)
    public static func contains(_ words: [UInt32], _ x: Float) -> Bool {
        guard let c = category(x), c / 32 < words.count else { return false }
        return words[c / 32] & (1 << UInt32(c % 32)) != 0
    }

    public static func bitset(_ categories: [Int]) -> [UInt32] {
        var words = [UInt32](repeating: 0, count: (categories.max() ?? -1) / 32 + 1)
        for c in categories { words[c / 32] |= 1 << UInt32(c % 32) }
        return words
    }

    public static func members(_ words: [UInt32]) -> [Int] {
        words.indices.flatMap { w in (0..<32).filter { words[w] & (1 << UInt32($0)) != 0 }.map { w * 32 + $0 } }
    }
}
