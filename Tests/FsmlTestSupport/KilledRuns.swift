import Foundation
import FsmlCore

/// Runs a restartable `fsml stream` until it finishes, SIGKILLing it at random moments on the way.
///
/// A kill comes only after the attempt's checkpoint has advanced past where that attempt began, so
/// every attempt makes progress however slow or busy the machine is (a kill on a timer alone can
/// land before a restart has done anything, and then no run ever finishes). After `kills` kills the
/// next attempt runs to its end. Where a kill lands after that progress is drawn at random.
public struct KilledRuns {
    public struct Outcome {
        /// How many attempts were killed.
        public let kills: Int
        /// The exit code of the attempt that ran to its end.
        public let status: Int32
        /// The index of that attempt (its stdout and stderr files carry this number).
        public let lastAttempt: Int
    }

    public struct Stuck: Error, CustomStringConvertible {
        public let attempt: Int
        public let lines: Int
        public var description: String { "attempt \(attempt) made no progress past line \(lines) in 10 minutes" }
    }

    public let executable: String
    public let arguments: [String]
    /// The job's checkpoint directory, where progress is observed.
    public let checkpointDirectory: String
    /// Where each attempt's stdout and stderr go: `<prefix>-<attempt>.out` and `.err`, or nowhere.
    public let outputPrefix: String?

    public init(executable: String, arguments: [String], checkpointDirectory: String, outputPrefix: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.checkpointDirectory = checkpointDirectory
        self.outputPrefix = outputPrefix
    }

    /// Kills `kills` attempts, each after observed progress plus a random pause of up to
    /// `maxPause` seconds, then lets the next attempt finish. An attempt that finishes by itself
    /// before its kill ends the loop early.
    public func run(kills: Int, seed: UInt64, maxPause: Double = 0.2) throws -> Outcome {
        var random = SeededRandom(seed: seed)
        var killed = 0
        var attempt = 0
        while true {
            let begin = Self.linesCheckpointed(in: checkpointDirectory) ?? 0
            let child = try ChildProcess(
                executable, arguments, stdout: outputPrefix.map { "\($0)-\(attempt).out" },
                stderr: outputPrefix.map { "\($0)-\(attempt).err" })
            if killed < kills {
                // Only a stuck child (not a slow one) hits this bound.
                let stuck = monotonicNanos() + 600_000_000_000
                while child.isRunning && (Self.linesCheckpointed(in: checkpointDirectory) ?? 0) <= begin {
                    guard monotonicNanos() < stuck else { throw Stuck(attempt: attempt, lines: begin) }
                    usleep(5_000)
                }
                let pauseEnd = monotonicNanos() + UInt64(random.uniform() * maxPause * 1e9)
                while child.isRunning && monotonicNanos() < pauseEnd { usleep(2_000) }
                if child.isRunning {
                    child.signal(SIGKILL)
                    child.wait()
                    killed += 1
                    attempt += 1
                    continue
                }
            }
            return Outcome(kills: killed, status: child.wait(), lastAttempt: attempt)
        }
    }

    /// The input lines counted by the newest checkpoint in `directory` (read from its JSON header:
    /// "FSMLCKP1", a 4-byte little-endian length, then the header), or nil when there is none yet.
    /// Checkpoints are replaced by rename, so a read never sees half a file.
    public static func linesCheckpointed(in directory: String) -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        var best: Int?
        for name in names where name.hasSuffix(".checkpoint") {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"), data.count >= 12 else {
                continue
            }
            let bytes = [UInt8](data)
            let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            guard 12 + length <= bytes.count,
                let header = try? JSONSerialization.jsonObject(with: Data(bytes[12..<12 + length])) as? [String: Any],
                let intake = header["intake"] as? [String: Any], let counts = intake["counts"] as? [String: Any],
                let lines = counts["lines"] as? Int
            else { continue }
            best = max(best ?? lines, lines)
        }
        return best
    }
}
