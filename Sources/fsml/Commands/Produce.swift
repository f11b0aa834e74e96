import ArgumentParser
import FeatureCore
import FsmlCore
import Streaming

struct Produce: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay events into a Kafka topic, keyed by an entity's key, optionally at a steady rate.",
        discussion: """
            Each line is sent as it is, keyed by --key (default: the first entity's first key field) so that \
            one entity's events stay in one partition, in order. Lines that are not valid events are sent too, without a key: the stream job \
            dead-letters them.
            """
    )

    @Option(
        help: ArgumentHelp("The events: file:PATH (JSONL, .gz read too), a path, or - for stdin.", valueName: "source"))
    var from: String
    @Option(help: ArgumentHelp("The topic: kafka://HOST:PORT/TOPIC.", valueName: "kafka-url")) var to: String
    @Option(help: "Events per second (default: as fast as possible).") var rate: Double?
    @Option(help: "The event field whose value is the message key (default: the first entity's key).") var key: String?
    @Option(help: "Stop after this many lines.") var maxLines: Int?
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let registry = try global.loadRegistry()
        let keyField: Int
        if let key {
            guard let i = registry.schema.index(of: key) else {
                throw ValidationError("--key: no field '\(key)' in the event schema of \(registry.source)")
            }
            keyField = i
        } else {
            keyField = registry.entities[0].keyFields[0]
        }
        let address: KafkaAddress
        do {
            guard case .kafka(let a) = try SourceSpec.parse(to) else {
                throw ValidationError("--to must be kafka://HOST:PORT/TOPIC")
            }
            address = a
        } catch let e as SourceSpec.ParseError { throw ValidationError(e.description) }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        let path = from.hasPrefix("file:") ? String(from.dropFirst("file:".count)) : from
        let reader = try LineReader(path: path)
        let producer = try KafkaProducer(brokers: address.brokers, topic: address.topic)
        let parser = EventParser(schema: registry.schema)
        let progress = Progress("produce")
        StopSignal.install()
        let started = monotonicNanos()
        var sent = 0
        while !StopSignal.isRaised, maxLines.map({ sent < $0 }) ?? true, let line = try reader.next() {
            if let rate {
                let due = started + UInt64(Double(sent) / rate * 1e9)
                let now = monotonicNanos()
                if due > now { sleepNanos(due - now) }
            }
            let messageKey: String?
            if case .success(let event) = parser.parse(line) {
                messageKey = event.values[keyField].stringValue
            } else {
                messageKey = nil
            }
            try producer.send(line, key: messageKey)
            sent += 1
            if sent % 10_000 == 0 { progress.update(sent) }
        }
        let failed = try producer.flush()
        progress.finish(sent)
        guard failed == 0 else { throw CLIError("\(failed) of \(sent) messages were not delivered to \(address)") }
    }
}
