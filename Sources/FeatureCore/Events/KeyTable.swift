/// The schema's field paths as nested key tables, one per JSON object level.
final class KeyTable: Sendable {
    enum Target {
        case field(Int)
        case object(KeyTable)
    }

    /// The object's dotted path, for errors.
    let name: String
    let keys: ByteKeys
    /// Each key as a line spells it when it writes no spaces: the key, its closing quote and the
    /// colon; empty for a key that a string scan would not take as it is (escapes, control bytes,
    /// non-ASCII), which is then never expected.
    private let spelled: ByteKeys
    /// Per key: its field (≥ 0), or for a nested object -1 - its index in `objects`. Plain integers,
    /// so that a lookup copies no reference.
    private let targets: [Int]
    private let objects: [KeyTable]

    init(paths: [([String], Int)], name: String = "") {
        self.name = name
        var keys: [[UInt8]] = []
        var targets: [Int] = []
        var objects: [KeyTable] = []
        var seen: [String] = []
        for (path, field) in paths where !seen.contains(path[0]) {
            seen.append(path[0])
            keys.append(Array(path[0].utf8))
            if path.count == 1 {
                targets.append(field)
            } else {
                let nested = paths.filter { $0.0.count > 1 && $0.0[0] == path[0] }.map {
                    (Array($0.0.dropFirst()), $0.1)
                }
                targets.append(-1 - objects.count)
                objects.append(KeyTable(paths: nested, name: name.isEmpty ? path[0] : "\(name).\(path[0])"))
            }
        }
        self.keys = ByteKeys(keys)
        spelled = ByteKeys(
            keys.map { key in
                key.allSatisfy { $0 >= 32 && $0 < 128 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
                    ? key + Array(#"":"#.utf8) : []
            })
        self.targets = targets
        self.objects = objects
    }

    /// When the line continues, after the opening quote at the scanner, with the key that `hint`
    /// points at, spelled plainly and followed by its closing quote and a colon (as lines from a
    /// producer that writes its keys in one order do): what it names, with the scanner moved past
    /// the colon and `hint` past the key. Scanning the key and looking it up would reach the same.
    @inline(__always)
    func expected(_ s: inout Scanner, hint: inout Int) -> Target? {
        let k = hint < spelled.count ? hint : 0
        let start = s.i + 1
        let n = spelled.length(k)
        guard n > 0, start + n <= s.p.count,
            spelled.matches(k, UnsafeRawBufferPointer(rebasing: s.p[start..<start + n]), readable: s.p.count - start)
        else { return nil }
        s.i = start + n
        hint = k + 1
        return target(k)
    }

    @inline(__always)
    private func target(_ k: Int) -> Target {
        let t = targets[k]
        return t >= 0 ? .field(t) : .object(objects[-1 - t])
    }

    /// What `key` names here, if anything; `hint` is where the search starts and becomes the key
    /// after the one found.
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, readable: Int, hint: inout Int) -> Target? {
        guard let k = keys.find(key, readable: readable, hint: hint) else { return nil }
        hint = k + 1
        return target(k)
    }
}
