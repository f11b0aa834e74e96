import FeatureCore
import FsmlCore

/// Reads the common /predict body (a flat object of plain strings, numbers, booleans and nulls)
/// straight from its bytes into `PredictFields`, without the JSON tree, the name dictionaries and
/// a String per name. Whatever it does not take on (an escape or a byte outside printable ASCII in
/// a string, a number as a key, a nested value, an unknown or repeated field, a missing required
/// field, anything malformed) it leaves to `ServeRequests.predict`, by returning nil: so every
/// refusal, and every body it does take, reads exactly as the general path reads it.
enum PredictBodyScanner {
    static func scan(_ body: [UInt8], plan: PredictPlan) -> PredictFields? {
        guard plan.scannable, body.count <= ServeRequests.maxBodyBytes else { return nil }
        return body.withUnsafeBytes { scan($0, plan: plan) }
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }

    private static func scan(_ p: UnsafeRawBufferPointer, plan: PredictPlan) -> PredictFields? {
        let n = p.count
        var i = 0
        func skipSpace() { while i < n, isSpace(p[i]) { i += 1 } }
        /// A string of printable ASCII without escapes, the opening quote at `i`; its bytes' range.
        func plainString() -> Range<Int>? {
            let start = i + 1
            var j = start
            while j < n {
                let b = p[j]
                if b == UInt8(ascii: "\"") {
                    i = j + 1
                    return start..<j
                }
                guard b >= 0x20, b < 0x7F, b != UInt8(ascii: "\\") else { return nil }
                j += 1
            }
            return nil
        }
        func word(_ w: StaticString) -> Bool {
            let count = w.utf8CodeUnitCount
            guard i + count <= n else { return false }
            for k in 0..<count where p[i + k] != w.utf8Start[k] { return false }
            i += count
            return true
        }

        var keys = [String?](repeating: nil, count: plan.keySchemaIndexes.count)
        var values: [(index: Int, value: FieldValue)] = []
        var seen: UInt64 = 0
        var given: UInt64 = 0
        var explain: Bool?
        skipSpace()
        guard i < n, p[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        skipSpace()
        if i < n, p[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                guard i < n, p[i] == UInt8(ascii: "\""), let name = plainString() else { return nil }
                let nameBytes = UnsafeRawBufferPointer(rebasing: p[name])
                guard let (which, slot) = plan.slot(named: nameBytes) else {
                    // `"explain": true | false | null`, once, where the contract has no field of that name.
                    guard explain == nil, nameBytes.elementsEqual(ServeRequests.explainField.utf8) else { return nil }
                    skipSpace()
                    guard i < n, p[i] == UInt8(ascii: ":") else { return nil }
                    i += 1
                    skipSpace()
                    if word("true") {
                        explain = true
                    } else if word("false") || word("null") {
                        explain = false
                    } else {
                        return nil
                    }
                    skipSpace()
                    guard i < n else { return nil }
                    if p[i] == UInt8(ascii: ",") {
                        i += 1
                        continue
                    }
                    guard p[i] == UInt8(ascii: "}") else { return nil }
                    i += 1
                    break
                }
                guard seen & (1 << UInt64(which)) == 0 else { return nil }
                seen |= 1 << UInt64(which)
                skipSpace()
                guard i < n, p[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                skipSpace()
                guard i < n else { return nil }
                let first = p[i]
                switch slot {
                case .key(let j):
                    if first == UInt8(ascii: "\"") {
                        guard let r = plainString(), !r.isEmpty, r.count <= ServeRequests.maxIDLength else {
                            return nil
                        }
                        keys[j] = String(decoding: UnsafeRawBufferPointer(rebasing: p[r]), as: UTF8.self)
                        given |= 1 << UInt64(j)
                    } else if !word("null") {
                        return nil
                    }
                case .request(let index, let type):
                    let value: FieldValue
                    if first == UInt8(ascii: "n") {
                        guard word("null") else { return nil }
                        value = .missing
                    } else {
                        switch type {
                        case .int, .float:
                            guard first == UInt8(ascii: "-") || (first >= 48 && first <= 57),
                                let (x, end) = DecimalNumber.parse(p, at: i), x.isFinite
                            else { return nil }
                            i = end
                            value = .number(x)
                        case .bool:
                            if word("true") {
                                value = .bool(true)
                            } else if word("false") {
                                value = .bool(false)
                            } else {
                                return nil
                            }
                        case .string, .timestamp:
                            guard first == UInt8(ascii: "\""), let r = plainString(), !r.isEmpty,
                                r.count <= ServeRequests.maxIDLength
                            else { return nil }
                            value = .string(String(decoding: UnsafeRawBufferPointer(rebasing: p[r]), as: UTF8.self))
                        }
                    }
                    values.append((index, value))
                }
                skipSpace()
                guard i < n else { return nil }
                if p[i] == UInt8(ascii: ",") {
                    i += 1
                } else if p[i] == UInt8(ascii: "}") {
                    i += 1
                    break
                } else {
                    return nil
                }
            }
        }
        skipSpace()
        guard i == n, given & plan.requiredKeys == plan.requiredKeys else { return nil }
        values.sort { $0.index < $1.index }
        return PredictFields(keys: keys, values: values, explain: explain ?? false)
    }
}
