import Foundation

/// A failure the command line reports as one sentence.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    /// The text for `fsml: error: ...`: the error's own description when it has one.
    static func message(for error: any Error) -> String {
        // Keep the promise of one line.
        String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }
}
