import FsmlCore
import Testing

@Suite struct TimestampTests {
    @Test func parsesTheReferenceFormat() throws {
        let t = try Timestamp.parse("2025-01-15T12:31:22.314Z").get()
        #expect(t == 1_736_944_282_314_000)
        #expect(Timestamp.format(t) == "2025-01-15T12:31:22.314Z")
    }

    @Test func acceptsOffsetsSecondsOnlyAndMicros() throws {
        #expect(try Timestamp.parse("2025-01-15T12:31:22+00:00").get() == 1_736_944_282_000_000)
        #expect(try Timestamp.parse("2025-01-15T12:31:22.000001Z").get() == 1_736_944_282_000_001)
        // Nanoseconds are truncated to microseconds.
        #expect(try Timestamp.parse("2025-01-15T12:31:22.123456789Z").get() == 1_736_944_282_123_456)
        // An offset is applied: 14:31:22+02:00 and 07:01:22-05:30 are 12:31:22Z.
        #expect(try Timestamp.parse("2025-01-15T14:31:22+02:00").get() == 1_736_944_282_000_000)
        #expect(try Timestamp.parse("2025-01-15T07:01:22-05:30").get() == 1_736_944_282_000_000)
        #expect(try Timestamp.parse("2025-01-15t12:31:22z").get() == 1_736_944_282_000_000)
        #expect(try Timestamp.parse("0001-01-01T00:00:00Z").get() == -62_135_596_800_000_000)
        // A bare date only where a command line asks for one.
        #expect(try Timestamp.parseDateOrTime("2025-01-15").get() == 1_736_899_200_000_000)
    }

    /// docs/semantics.md: RFC 3339 date-times with a zone, nothing else.
    @Test func rejectsWhatIsNotAnRFC3339DateTime() {
        #expect(Timestamp.parse("2025-01-15") == .failure(.missingTime))
        #expect(Timestamp.parse("2025-01-15 00:30:00Z") == .failure(.malformed))
        #expect(Timestamp.parse("0000-01-15T00:30:00Z") == .failure(.outOfRange("year")))
        #expect(Timestamp.parse("2025-01-15T00:30:00.000") == .failure(.missingZone))
        #expect(Timestamp.parse("2025-01-15T12:31:22+24:00") == .failure(.outOfRange("offset")))
        #expect(Timestamp.parse("2025-01-15T12:31:60Z") == .failure(.outOfRange("second")))
        #expect(Timestamp.parse("2025-01-15T12:31:22") == .failure(.missingZone))
        #expect(Timestamp.parse("2025-13-15T12:31:22Z") == .failure(.outOfRange("month")))
        #expect(Timestamp.parse("2025-02-29T12:31:22Z") == .failure(.outOfRange("day")))
        #expect(Timestamp.parse("2024-02-29T12:31:22Z") != .failure(.outOfRange("day")))
        #expect(Timestamp.parse("2025-01-15T24:00:00Z") == .failure(.outOfRange("hour")))
        #expect(Timestamp.parse("2025-01-15T12:31:22.Z") == .failure(.malformed))
        #expect(Timestamp.parse("") == .failure(.malformed))
        #expect(Timestamp.parse("yesterday") == .failure(.malformed))
    }

    @Test func civilDaysRoundTripAcrossCenturiesAndBeforeTheEpoch() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (y, m, d) = Timestamp.civilFromDays(days)
            #expect(Timestamp.daysFromCivil(year: y, month: m, day: d) == days)
        }
        #expect(Timestamp.format(-1) == "1969-12-31T23:59:59.999999Z")
    }

    @Test func floorDivisionRoundsTowardMinusInfinity() {
        #expect(Timestamp.floorDiv(7, 2) == 3)
        #expect(Timestamp.floorDiv(-7, 2) == -4)
        #expect(Timestamp.floorDiv(-8, 2) == -4)
    }
}

@Suite struct DurationTextTests {
    @Test func parsesUnitsAndCompounds() {
        #expect(DurationText.parse("5m") == 300_000_000)
        #expect(DurationText.parse("24h") == 86_400_000_000)
        #expect(DurationText.parse("7d") == 604_800_000_000)
        #expect(DurationText.parse("1h30m") == 5_400_000_000)
        #expect(DurationText.parse("250ms") == 250_000)
        for bad in ["", "24x", "m", "5", "-5m", "5 m", "99999999999999999999d"] {
            #expect(DurationText.parse(bad) == nil)
        }
    }

    @Test func formatsBackToTheShortestText() {
        for text in ["5m", "1h", "1d", "7d", "1h30m", "250ms", "2d12h"] {
            #expect(DurationText.format(DurationText.parse(text)!) == text)
        }
        #expect(DurationText.format(DurationText.parse("24h")!) == "1d")
        #expect(DurationText.words(DurationText.parse("2h")!) == "2 hours")
    }
}
