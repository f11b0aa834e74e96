import ArgumentParser
import FsmlCore
import Streaming

struct Kafka: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Kafka helpers.",
        subcommands: [KafkaMock.self]
    )
}

struct KafkaMock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock",
        abstract: "Run librdkafka's in-process mock cluster: a real Kafka-protocol listener, no broker to install.",
        discussion: """
            Prints BOOTSTRAP=HOST:PORT on stdout once the cluster listens, then runs until SIGINT/SIGTERM. \
            Messages live in memory only. For trying `fsml produce` and `fsml stream --source kafka://...` \
            and for tests; not for production.
            """
    )

    @Option(help: ArgumentHelp("A topic to create, as NAME or NAME:PARTITIONS (repeatable).", valueName: "topic"))
    var topic: [String] = []
    @Option(help: "Number of brokers.") var brokers = 1

    func run() throws {
        var topics: [(name: String, partitions: Int)] = []
        for t in topic {
            let parts = t.split(separator: ":", maxSplits: 1)
            guard let name = parts.first, !name.isEmpty else { throw ValidationError("--topic '\(t)' names no topic") }
            let partitions = parts.count == 2 ? Int(parts[1]) : 1
            guard let partitions, partitions > 0 else { throw ValidationError("--topic '\(t)': bad partition count") }
            topics.append((String(name), partitions))
        }
        StopSignal.install()
        let cluster = try KafkaMockCluster(brokers: brokers, topics: topics)
        StandardOutput.write("BOOTSTRAP=\(cluster.bootstrap)\n")
        StandardError.line("fsml kafka mock: listening on \(cluster.bootstrap); stop with Ctrl-C")
        while !StopSignal.isRaised { sleepNanos(100_000_000) }
        _ = cluster
    }
}
