import CRdKafka
import Foundation
import FsmlCore

public struct KafkaError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

enum KafkaConfig {
    /// A configuration with the given properties, librdkafka's own logs routed to our stderr.
    static func make(_ properties: [(String, String)]) throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errstr = [CChar](repeating: 0, count: 512)
        for (k, v) in properties {
            guard rd_kafka_conf_set(conf, k, v, &errstr, errstr.count) == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                throw KafkaError("kafka setting \(k): \(text(errstr))")
            }
        }
        rd_kafka_conf_set_log_cb(conf) { _, level, facility, message in
            guard level <= 4 else { return }
            StandardError.line(
                "kafka: \(facility.map { String(cString: $0) } ?? ""): \(message.map { String(cString: $0) } ?? "")")
        }
        return conf
    }

    /// A consumer made from `conf` (which it takes over), polled through its queue and subscribed to
    /// the address's topic.
    static func subscribedConsumer(_ conf: OpaquePointer, address: KafkaAddress) throws -> OpaquePointer {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            throw KafkaError("kafka consumer for \(address): \(text(errstr))")
        }
        rd_kafka_poll_set_consumer(rk)
        let topics = rd_kafka_topic_partition_list_new(1)!
        rd_kafka_topic_partition_list_add(topics, address.topic, RD_KAFKA_PARTITION_UA)
        let err = rd_kafka_subscribe(rk, topics)
        rd_kafka_topic_partition_list_destroy(topics)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(rk)
            throw KafkaError("kafka subscribe to \(address.topic): \(errorName(err))")
        }
        return rk
    }

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func errorName(_ err: rd_kafka_resp_err_t) -> String { String(cString: rd_kafka_err2str(err)) }
}

/// What the rebalance callback shares with the consumer: offsets to start assigned partitions at.
final class KafkaGroupState: @unchecked Sendable {
    let lock = NSLockLite()
    var startOffsets: [Int32: Int64] = [:]
    var assigned: Set<Int32> = []
    var events: [PartitionEvent] = []
}

/// A consumer-group member reading one topic. Offsets are committed to Kafka only by `commit()`,
/// which the stream job calls once the sinks hold the data; a restored checkpoint's offsets decide
/// where assigned partitions start. With `untilEnd` it stops when every assigned partition is at
/// its end.
public final class KafkaSource: EventSource {
    private let rk: OpaquePointer
    private let address: KafkaAddress
    private let untilEnd: Bool
    private let group: KafkaGroupState
    private var nextOffsets: [Int32: Int64] = [:]
    private var atEnd: Set<Int32> = []
    private var buffer: [UInt8] = []
    public private(set) var lineLength = 0
    private let maxLineBytes: Int
    private var closed = false
    private var last: (partition: Int32, offset: Int64) = (0, 0)

    public var partition: Int32? { last.partition }

    public func takePartitionEvents() -> [PartitionEvent] {
        group.lock.withLock {
            defer { group.events.removeAll() }
            return group.events
        }
    }

    public var origin: (source: String, line: Int) {
        ("kafka://\(address.brokers)/\(address.topic)/\(last.partition)", Int(last.offset))
    }

    public init(
        address: KafkaAddress, untilEnd: Bool, clientID: String = "fsml-stream",
        maxLineBytes: Int = LineReader.defaultMaxLineBytes
    ) throws {
        self.address = address
        self.untilEnd = untilEnd
        self.maxLineBytes = maxLineBytes
        group = KafkaGroupState()
        let conf = try KafkaConfig.make([
            ("bootstrap.servers", address.brokers), ("group.id", address.group ?? "fsml-stream"),
            ("client.id", clientID),
            ("enable.auto.commit", "false"), ("auto.offset.reset", "earliest"), ("enable.partition.eof", "true"),
            ("session.timeout.ms", "6000"), ("partition.assignment.strategy", "range"),
        ])
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(group).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
            guard let opaque, let partitions else { return }
            let group = Unmanaged<KafkaGroupState>.fromOpaque(opaque).takeUnretainedValue()
            let list = (0..<Int(partitions.pointee.cnt)).map { partitions.pointee.elems[$0].partition }
            let topic = partitions.pointee.cnt > 0 ? String(cString: partitions.pointee.elems[0].topic) : ""
            let names = list.sorted().map(String.init).joined(separator: ",")
            group.lock.withLock {
                if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
                    for i in 0..<Int(partitions.pointee.cnt) {
                        let p = partitions.pointee.elems[i].partition
                        if let offset = group.startOffsets[p] { partitions.pointee.elems[i].offset = offset }
                        group.assigned.insert(p)
                    }
                    rd_kafka_assign(rk, partitions)
                    group.events.append(.assigned(group.assigned))
                    StandardError.line("kafka: assigned partitions \(names) of \(topic)")
                } else {
                    group.assigned.removeAll()
                    rd_kafka_assign(rk, nil)
                    group.events.append(.assigned([]))
                    // Without --shards, entity states do not move with partitions (docs/scaling.md): say so.
                    StandardError.line(
                        "kafka: partitions \(names) of \(topic) revoked; their entities' states stay with this member")
                }
            }
        }
        rk = try KafkaConfig.subscribedConsumer(conf, address: address)
    }

    deinit { close() }

    public var assignedPartitions: Set<Int32> { group.lock.withLock { group.assigned } }

    public var isExhausted: Bool {
        guard untilEnd else { return false }
        let assigned = assignedPartitions
        return !assigned.isEmpty && assigned.isSubset(of: atEnd)
    }

    public func next(timeout: Double) throws -> UnsafeRawBufferPointer? {
        guard let message = rd_kafka_consumer_poll(rk, Int32(max(0, timeout * 1000))) else { return nil }
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            atEnd.insert(m.partition)
            group.lock.withLock { group.events.append(.idle(m.partition)) }
            return nil
        }
        guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            // Transient broker errors are retried by librdkafka; report and go on.
            StandardError.line("kafka: \(address.topic): \(KafkaConfig.errorName(m.err))")
            return nil
        }
        atEnd.remove(m.partition)
        nextOffsets[m.partition] = m.offset + 1
        last = (m.partition, m.offset)
        buffer.removeAll(keepingCapacity: true)
        lineLength = m.len
        // A message over the line limit keeps only its start: the intake makes it a dead letter.
        let kept = m.len > maxLineBytes ? min(m.len, LineReader.keptBytes) : m.len
        if let payload = m.payload { buffer.append(contentsOf: UnsafeRawBufferPointer(start: payload, count: kept)) }
        return buffer.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
    }

    public var position: JSONValue {
        .object([
            ("topic", .string(address.topic)),
            ("offsets", .object(nextOffsets.sorted { $0.key < $1.key }.map { (String($0.key), .int(Int($0.value))) })),
        ])
    }

    public func restore(_ position: JSONNode) throws {
        guard position["topic"]?.string == address.topic else {
            throw SourceError("the checkpoint is for topic \(position["topic"]?.string ?? "?"), not \(address.topic)")
        }
        var offsets: [Int32: Int64] = [:]
        for (partition, offset) in position["offsets"]?.object ?? [] {
            guard let p = Int32(partition), let o = offset.int else {
                throw SourceError("bad Kafka offset in the checkpoint")
            }
            offsets[p] = Int64(o)
        }
        nextOffsets = offsets
        group.lock.withLock { group.startOffsets = offsets }
    }

    public func commit() throws {
        // Only partitions this member holds: another member's progress is not ours to overwrite.
        let owned = assignedPartitions
        let offsets = nextOffsets.filter { owned.contains($0.key) }
        guard !offsets.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (p, o) in offsets { rd_kafka_topic_partition_list_add(list, address.topic, p)!.pointee.offset = o }
        let err = rd_kafka_commit(rk, list, 0)
        // The checkpoint already holds these offsets and wins on restart; a commit refused while
        // the group rebalances only delays what other members see. Say so and carry on.
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            StandardError.line(
                "kafka: offsets for \(address.topic) not committed this time: \(KafkaConfig.errorName(err))")
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        rd_kafka_consumer_close(rk)
        rd_kafka_destroy(rk)
    }
}

/// Sends lines to a topic, keyed (so that one user's events stay in one partition, in order).
public final class KafkaProducer {
    private let rk: OpaquePointer
    private let topic: OpaquePointer
    private let failures: FailureCount

    final class FailureCount: @unchecked Sendable {
        let lock = NSLockLite()
        var count = 0
        var last = ""
    }

    public init(brokers: String, topic name: String) throws {
        failures = FailureCount()
        let conf = try KafkaConfig.make([("bootstrap.servers", brokers), ("linger.ms", "5"), ("acks", "all")])
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(failures).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message, let opaque, message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
            let failures = Unmanaged<FailureCount>.fromOpaque(opaque).takeUnretainedValue()
            failures.lock.withLock {
                failures.count += 1
                failures.last = KafkaConfig.errorName(message.pointee.err)
            }
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            throw KafkaError("kafka producer for \(brokers): \(KafkaConfig.text(errstr))")
        }
        rk = handle
        guard let t = rd_kafka_topic_new(rk, name, nil) else {
            rd_kafka_destroy(rk)
            throw KafkaError("kafka topic \(name): \(KafkaConfig.errorName(rd_kafka_last_error()))")
        }
        topic = t
    }

    deinit {
        rd_kafka_topic_destroy(topic)
        rd_kafka_destroy(rk)
    }

    public func send(_ value: UnsafeRawBufferPointer, key: String?) throws {
        var keyBytes = Array((key ?? "").utf8)
        while true {
            let rc = keyBytes.withUnsafeMutableBytes { k in
                rd_kafka_produce(
                    topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                    UnsafeMutableRawPointer(mutating: value.baseAddress),
                    value.count, key == nil ? nil : k.baseAddress, key == nil ? 0 : k.count, nil)
            }
            if rc == 0 { break }
            let err = rd_kafka_last_error()
            guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                throw KafkaError("kafka produce: \(KafkaConfig.errorName(err))")
            }
            rd_kafka_poll(rk, 50)
        }
        rd_kafka_poll(rk, 0)
    }

    /// Waits until every message is delivered (or failed); returns the number that failed.
    public func flush(timeoutSeconds: Double = 30) throws -> Int {
        let err = rd_kafka_flush(rk, Int32(timeoutSeconds * 1000))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError("kafka flush: \(KafkaConfig.errorName(err))") }
        return failures.lock.withLock { failures.count }
    }
}

/// librdkafka's in-process mock cluster: a real Kafka-protocol listener on a loopback port, for
/// tests and for trying the Kafka path where no broker is installed.
public final class KafkaMockCluster: @unchecked Sendable {
    private let owner: OpaquePointer
    private let cluster: OpaquePointer
    public let bootstrap: String

    public init(brokers: Int = 1, topics: [(name: String, partitions: Int)]) throws {
        let conf = try KafkaConfig.make([])
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            throw KafkaError("kafka mock: \(KafkaConfig.text(errstr))")
        }
        owner = rk
        guard let mc = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError("kafka mock: cannot create the cluster")
        }
        cluster = mc
        bootstrap = String(cString: rd_kafka_mock_cluster_bootstraps(mc))
        for t in topics {
            let err = rd_kafka_mock_topic_create(mc, t.name, Int32(t.partitions), 1)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError("kafka mock topic \(t.name): \(KafkaConfig.errorName(err))")
            }
        }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(owner)
    }
}
