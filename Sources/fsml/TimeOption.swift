import ArgumentParser
import FsmlCore

/// An option's ISO-8601 date or time, or a validation error that names the option.
func parseTimeOption(_ text: String, _ option: String) throws -> Micros {
    switch Timestamp.parseDateOrTime(text) {
    case .success(let t): return t
    case .failure(let e): throw ValidationError("\(option): \(e)")
    }
}
