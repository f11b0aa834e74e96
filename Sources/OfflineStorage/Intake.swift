import FeatureCore
import FsmlCore

/// Counts of what happened to incoming lines.
public struct IntakeCounts: Sendable, Equatable {
    public var lines = 0
    public var admitted = 0
    public var late = 0
    public var duplicates = 0
    public var deadLetters = 0

    public init() {}

    /// The counts since `earlier`.
    public func minus(_ earlier: IntakeCounts) -> IntakeCounts {
        var d = IntakeCounts()
        d.lines = lines - earlier.lines
        d.admitted = admitted - earlier.admitted
        d.late = late - earlier.late
        d.duplicates = duplicates - earlier.duplicates
        d.deadLetters = deadLetters - earlier.deadLetters
        return d
    }
}

/// The first steps every event takes, in the stream job and in batch ingest alike: parse and
/// validate (dead letters for failures), admission (late events logged, duplicates counted), then
/// a sequence number and the instant it became known. Sharing this code is what makes the offline
/// store's decisions the online store's decisions.
public struct Intake {
    public let schema: EventSchema
    public let parser: EventParser
    public var admission: Admission
    public var nextSequence: Int64
    public var counts = IntakeCounts()

    public init(schema: EventSchema, lateness: Micros, nextSequence: Int64 = 0, admission: Admission? = nil) {
        self.schema = schema
        parser = EventParser(schema: schema)
        self.admission = admission ?? Admission(lateness: lateness)
        self.nextSequence = nextSequence
    }

    public enum Outcome {
        case admitted(StoredEvent)
        case late(Event, watermark: Micros)
        case duplicate(Event)
        case deadLetter(EventError)
    }

    /// Takes one raw line (from a partition of a partitioned source, or nil).
    public mutating func take(_ line: UnsafeRawBufferPointer, partition: Int32? = nil) -> Outcome {
        counts.lines += 1
        switch parser.parse(line) {
        case .failure(let error):
            counts.deadLetters += 1
            return .deadLetter(error)
        case .success(let event):
            return admit(event, partition: partition)
        }
    }

    /// Takes one already parsed event.
    public mutating func admit(_ event: Event, partition: Int32? = nil) -> Outcome {
        switch admission.admit(id: event.id(in: schema), time: event.time, partition: partition) {
        case .admitted(let knownAt):
            counts.admitted += 1
            defer { nextSequence += 1 }
            return .admitted(StoredEvent(event: event, sequence: nextSequence, knownAt: knownAt))
        case .late(let watermark):
            counts.late += 1
            return .late(event, watermark: watermark)
        case .duplicate:
            counts.duplicates += 1
            return .duplicate(event)
        }
    }
}
