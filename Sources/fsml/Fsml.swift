import ArgumentParser
import Foundation
import FsmlCore

@main
struct Fsml: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsml",
        abstract: "A real-time feature store and ML workbench in one binary.",
        discussion: """
            Features are defined once in fsml.yaml and computed by one time engine, so the values a \
            model trains on are, bit for bit, the values it is served.
            """,
        version: FsmlVersion.current,
        subcommands: [
            Init.self, Features.self, Generate.self, Ingest.self, Stream.self, Materialize.self, Produce.self,
            Build.self, Train.self,
            Tune.self, Evaluate.self, Runs.self, Compare.self, Serve.self, ParityCommand.self, Validate.self,
            Reports.self, Predict.self, Explain.self,
            Model.self, Kafka.self, Bench.self,
        ]
    )

    @Option(name: .long, help: ArgumentHelp("The project definition (default: fsml.yaml).", valueName: "path"))
    var config: String?

    /// `--config`, taken from the command line before parsing; every subcommand reads it.
    nonisolated(unsafe) static var rootConfig: String?

    /// Runs the command line. A failure while running prints one line, `fsml: error: ...`, and
    /// exits 1; usage errors keep the argument parser's message and exit code.
    static func main() async {
        // A peer that closes its socket (Redis dying mid-write, a client gone) is an EPIPE error
        // on that write, handled where it happens; never a signal that kills the process.
        signal(SIGPIPE, SIG_IGN)
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(extractRootOptions(Array(CommandLine.arguments.dropFirst())))
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch  where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // Help requests, validation and usage errors: the parser's own text and exit code.
            exit(withError: error)
        } catch {
            StandardError.line("fsml: error: \(CLIError.message(for: error))")
            Foundation.exit(1)
        }
    }

    /// Takes `--config PATH` (or `--config=PATH`) from anywhere before a `--`, so that it works as a
    /// global option: `fsml --config other.yaml features list` and `fsml features list --config
    /// other.yaml` mean the same. Subcommands still declare it, for their help text.
    static func extractRootOptions(_ args: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" {
                out += args[i...]
                break
            }
            if a == "--config" && i + 1 < args.count {
                rootConfig = args[i + 1]
                i += 2
                continue
            }
            if a.hasPrefix("--config=") {
                rootConfig = String(a.dropFirst("--config=".count))
                i += 1
                continue
            }
            out.append(a)
            i += 1
        }
        return out
    }
}
