/// A workflow's failure, said in one sentence a command can print as it is.
public struct WorkflowError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
