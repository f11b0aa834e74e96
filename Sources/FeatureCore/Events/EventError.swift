/// Why a line is not an event: a sentence fit for the dead-letter record.
public struct EventError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
