/// Instants are Int64 microseconds since 1970-01-01T00:00:00Z everywhere in fsml: the resolution of
/// Parquet's TIMESTAMP(MICROS) and fine enough for clickstreams. Arithmetic on them is exact, so
/// window and TTL boundaries never depend on floating point.
public typealias Micros = Int64

public enum Timestamp {
    public static let microsPerSecond: Micros = 1_000_000
    public static let microsPerMinute: Micros = 60 * microsPerSecond
    public static let microsPerHour: Micros = 60 * microsPerMinute
    public static let microsPerDay: Micros = 24 * microsPerHour

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day number; the inverse of `daysFromCivil`.
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Floor division, so that instants before 1970 fall into the right day, tile or second.
    @inlinable
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// `2025-01-15T12:31:22.314Z`: milliseconds when the instant has no finer part, else microseconds.
    public static func format(_ t: Micros) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        append(t, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the ISO-8601 text of `t` (see `format`) to a byte buffer without building a String.
    public static func append(_ t: Micros, to out: inout [UInt8]) {
        let days = floorDiv(t, microsPerDay)
        let inDay = t - days * microsPerDay
        let (y, m, d) = civilFromDays(Int(days))
        appendDigits(y, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(m, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        let secs = Int(inDay / microsPerSecond)
        appendDigits(secs / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secs / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secs % 60, width: 2, to: &out)
        let frac = Int(inDay % microsPerSecond)
        out.append(UInt8(ascii: "."))
        if frac % 1000 == 0 {
            appendDigits(frac / 1000, width: 3, to: &out)
        } else {
            appendDigits(frac, width: 6, to: &out)
        }
        out.append(UInt8(ascii: "Z"))
    }

    @inline(__always)
    static func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        if v >= divisor * 10 {  // years past 9999 keep every digit
            out.append(contentsOf: Array(String(v).utf8))
            return
        }
        while divisor > 0 {
            out.append(UInt8(ascii: "0") &+ UInt8(v / divisor))
            v %= divisor
            divisor /= 10
        }
    }

    /// Parses an RFC 3339 date-time, the one grammar of event times:
    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with `T` and `Z` in either case, years 0001 to
    /// 9999, one to nine fraction digits (finer than a microsecond is truncated), and an offset,
    /// which is applied (the instant is in UTC). No zone, a bare date, a space for `T`, and a leap
    /// second are refused.
    public static func parse(_ text: String) -> Result<Micros, TimestampError> {
        var copy = text
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// A date-time as `parse` takes it, or a bare date `YYYY-MM-DD` (midnight UTC): for the command
    /// line and partition names, not for events.
    public static func parseDateOrTime(_ text: String) -> Result<Micros, TimestampError> {
        var copy = text
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0), allowDate: true) }
    }

    /// The byte-level parser behind `parse(_:)`, used on the hot path of event parsing.
    public static func parse(_ b: UnsafeRawBufferPointer, allowDate: Bool = false) -> Result<Micros, TimestampError> {
        let n = b.count
        @inline(__always) func digit(_ i: Int) -> Int? {
            guard i < n else { return nil }
            let c = b[i]
            return c >= 48 && c <= 57 ? Int(c - 48) : nil
        }
        @inline(__always) func number(_ start: Int, _ count: Int) -> Int? {
            var v = 0
            for i in start..<start + count {
                guard let d = digit(i) else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard n >= 10, let year = number(0, 4), b[4] == UInt8(ascii: "-"), let month = number(5, 2),
            b[7] == UInt8(ascii: "-"), let day = number(8, 2)
        else { return .failure(.malformed) }
        guard year >= 1 else { return .failure(.outOfRange("year")) }
        guard (1...12).contains(month) else { return .failure(.outOfRange("month")) }
        guard day >= 1 && day <= daysInMonth(year: year, month: month) else { return .failure(.outOfRange("day")) }
        let dayMicros = Micros(daysFromCivil(year: year, month: month, day: day)) * microsPerDay
        if n == 10 { return allowDate ? .success(dayMicros) : .failure(.missingTime) }
        guard n >= 19, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), let hour = number(11, 2),
            b[13] == UInt8(ascii: ":"), let minute = number(14, 2), b[16] == UInt8(ascii: ":"),
            let second = number(17, 2)
        else { return .failure(.malformed) }
        guard hour <= 23 else { return .failure(.outOfRange("hour")) }
        guard minute <= 59 else { return .failure(.outOfRange("minute")) }
        guard second <= 59 else { return .failure(.outOfRange("second")) }
        var i = 19
        var fraction: Micros = 0
        if i < n && b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while let d = digit(i) {
                if digits < 6 { fraction = fraction * 10 + Micros(d) }
                digits += 1
                i += 1
            }
            guard digits >= 1 && digits <= 9 else { return .failure(.malformed) }
            for _ in min(digits, 6)..<6 { fraction *= 10 }
        }
        let rest = n - i
        var offset: Micros = 0
        if rest == 1 && (b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z")) {
            // UTC
        } else if rest == 6 && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) && b[i + 3] == UInt8(ascii: ":")
        {
            guard let oh = number(i + 1, 2), let om = number(i + 4, 2) else { return .failure(.malformed) }
            guard oh <= 23 && om <= 59 else { return .failure(.outOfRange("offset")) }
            // Local time = UTC + offset.
            offset = Micros(oh * 60 + om) * microsPerMinute * (b[i] == UInt8(ascii: "+") ? 1 : -1)
        } else if rest == 0 {
            return .failure(.missingZone)
        } else {
            return .failure(.malformed)
        }
        let secs = Micros(hour * 3600 + minute * 60 + second)
        return .success(dayMicros + secs * microsPerSecond + fraction - offset)
    }
}

public enum TimestampError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed
    case outOfRange(String)
    case missingZone
    case missingTime

    public var description: String {
        switch self {
        case .malformed: return "not an RFC 3339 timestamp (use 2025-01-15T12:31:22.314Z or an offset like +02:00)"
        case .outOfRange(let part): return "timestamp \(part) out of range"
        case .missingZone: return "timestamp has no zone (append Z for UTC, or an offset like +02:00)"
        case .missingTime: return "a date without a time is not a timestamp (use 2025-01-15T00:00:00Z)"
        }
    }
}
