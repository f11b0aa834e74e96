import FeatureCore
import FsmlCore
import OfflineStorage

/// Keeps what an intake hands on: the admitted events, and the reasons and origins of what it
/// rejected.
public struct CollectingSink: IntakeSink {
    public var admitted: [StoredEvent] = []
    public var late: [Origin] = []
    public var deadLetters: [(reason: String, origin: Origin)] = []

    public init() {}

    public mutating func admitted(_ event: StoredEvent) throws { admitted.append(event) }

    public mutating func late(_ event: Event, watermark: Micros, raw: UnsafeRawBufferPointer, origin: Origin) throws {
        late.append(origin)
    }

    public mutating func deadLetter(reason: String, raw: UnsafeRawBufferPointer, origin: Origin) throws {
        deadLetters.append((reason, origin))
    }
}
