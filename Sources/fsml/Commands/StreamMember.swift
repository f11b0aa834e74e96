import ArgumentParser
import FeatureCore
import Foundation
import FsmlCore
import Streaming
import Workflows

/// `fsml stream --shards DIR`: one member of a consumer group whose partitions move with their states.
extension Stream {
    func runMember(shards: String) throws {
        let registry = try global.loadRegistry()
        let spec: SourceSpec
        do { spec = try SourceSpec.parse(source) } catch { throw ValidationError(error.description) }
        guard case .kafka(let address) = spec, address.group != nil else {
            throw ValidationError("--shards needs a consumer group's source: kafka://HOST:PORT/TOPIC?group=G")
        }
        let member = try job.makeMember(address: address, shards: shards, registry: registry, config: global.configPath)
        defer { member.close() }
        StopSignal.install()
        StandardError.line(
            "fsml stream: member \(member.options.name) of group \(address.group ?? "") on \(address.topic); shards in \(member.layout.topicDirectory)"
        )
        let report = try member.run()
        member.close()
        let group = try GroupProgress.read(member.layout)
        let totals = group.counts
        switch output.format {
        case .json:
            var fields: [(String, JSONValue)] = []
            if case .object(let own) = report.json() { fields = own }
            fields.append(
                (
                    "group",
                    .object([
                        ("partitions", .int(group.partitions.count)), ("next_offsets", .int(Int(group.offsets))),
                        ("lines", .int(totals.lines)), ("admitted", .int(totals.admitted)), ("late", .int(totals.late)),
                        ("duplicates", .int(totals.duplicates)), ("dead_letters", .int(totals.deadLetters)),
                    ])
                ))
            StandardOutput.write(JSONText.render(.object(fields)) + "\n")
        case .table:
            var table = TextTable(["MEMBER", "VALUE"], rightAligned: [1])
            table.add(["lines", Progress.count(report.counts.lines)])
            table.add(["events/s", Progress.count(Int(report.linesPerSecond))])
            table.add(["admitted", Progress.count(report.counts.admitted)])
            table.add([
                "partitions restored / handed over", "\(report.partitionsRestored) / \(report.partitionsHandedOver)",
            ])
            table.add(["group lines (all shards)", Progress.count(totals.lines)])
            table.add(["shards", member.layout.topicDirectory])
            StandardOutput.write(table.render())
        }
    }
}

extension StreamJobOptions {
    /// A consumer-group member from the stream flags: its shards under `shards`, one offline store
    /// per partition under --offline.
    func makeMember(
        address: KafkaAddress, shards: String, registry: FeatureRegistry, config: String
    ) throws -> GroupStreamJob {
        let kinds = try entityKinds(registry)
        // Unique per process: the name is the member's Kafka client id and its online-store marker.
        let memberName = name ?? "member-\(ProcessInfo.processInfo.hostName)-\(getpid())"
        guard memberName.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !memberName.isEmpty else {
            throw ValidationError("--name '\(memberName)' may hold letters, digits, '-', '_' and '.' only")
        }
        var options = GroupMemberOptions(
            name: memberName, shardDirectory: shards,
            rejectDirectory: ProjectPaths.resolve("data/rejects", config: config))
        options.offlineBase =
            noOffline ? nil : offline ?? ProjectPaths.resolve(registry.stores.offline, config: config)
        options.flushInterval = try seconds(flushInterval, "--flush-interval")
        options.checkpointInterval = try seconds(checkpointInterval, "--checkpoint-interval")
        options.entityKinds = kinds
        options.untilEnd = untilEnd
        options.maxLines = maxLines
        if let storeRetries, storeRetries < 1 { throw ValidationError("--store-retries must be at least 1") }
        options.retry = RetryPolicy(
            initialDelay: 0.1, maxDelay: max(0.1, try seconds(storeRetryMax, "--store-retry-max")),
            maxAttempts: storeRetries)
        if rate != nil { throw ValidationError("--rate is not supported with --shards") }
        let online = noOnline ? nil : try openOnline(registry: registry, config: config)
        return try GroupStreamJob(registry: registry, address: address, online: online, options: options)
    }
}
