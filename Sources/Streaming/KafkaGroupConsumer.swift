import CRdKafka
import Foundation
import FsmlCore

/// What a consumer-group member does when the group moves partitions. Called on the polling thread,
/// inside `KafkaGroupConsumer.next`, between two messages: the member is never in the middle of one.
public protocol PartitionHandover: AnyObject {
    /// Partitions given to this member: restore what their shards hold. Returns the offset to
    /// start each at (its shard's), or none for a partition to read from its beginning.
    func assign(_ partitions: [Int32]) throws -> [Int32: Int64]
    /// Partitions about to leave this member in an orderly rebalance: make everything of theirs
    /// durable (their shards) before they go, so that their next owner continues exactly there.
    func revoke(_ partitions: [Int32]) throws
    /// Partitions taken without an orderly rebalance (this member missed its session timeout):
    /// another member may already have restored their shards, so they are dropped unwritten.
    func lose(_ partitions: [Int32])
}

/// One message, valid until the next call to `next`.
public struct KafkaMessage {
    public var partition: Int32
    public var offset: Int64
    public var bytes: UnsafeRawBufferPointer
    /// The message's full length: more than `bytes` when only its start was kept.
    public var length: Int
}

/// A consumer-group member that reads one topic with cooperative (incremental) rebalancing:
/// a rebalance moves only the partitions that change owner, and the others keep flowing. Offsets
/// start where the `PartitionHandover` says: the shards decide, and nothing is committed to the
/// group. (A commit sent while the group rebalances fails with an old generation, and librdkafka
/// then treats the whole assignment as lost: measured, every busy member lost all its partitions
/// whenever another joined.)
public final class KafkaGroupConsumer {
    private let rk: OpaquePointer
    public let address: KafkaAddress
    private let callbacks: Callbacks
    private var buffer: [UInt8] = []
    private let maxLineBytes: Int
    private var closed = false

    /// What the C rebalance callback reaches through its opaque pointer.
    final class Callbacks {
        weak var handover: (any PartitionHandover)?
        var failure: (any Error)?
        var held: Set<Int32> = []
        var rebalances = 0
        /// Held partitions read to their end (and nothing since). A partition that comes back is
        /// not at its end until it says so again: another member may have left messages behind.
        var atEnd: Set<Int32> = []
    }

    /// `properties` are added to (or override) the consumer's librdkafka settings.
    public init(
        address: KafkaAddress, handover: any PartitionHandover, clientID: String,
        maxLineBytes: Int = LineReader.defaultMaxLineBytes, properties: [(String, String)] = []
    ) throws {
        self.address = address
        self.maxLineBytes = maxLineBytes
        callbacks = Callbacks()
        callbacks.handover = handover
        let conf = try KafkaConfig.make(
            [
                ("bootstrap.servers", address.brokers), ("group.id", address.group ?? "fsml-stream"),
                ("client.id", clientID), ("enable.auto.commit", "false"), ("auto.offset.reset", "earliest"),
                ("enable.partition.eof", "true"), ("session.timeout.ms", "6000"),
                ("heartbeat.interval.ms", "500"),
                // Incremental: a member joining or leaving moves only the partitions that change owner.
                ("partition.assignment.strategy", "cooperative-sticky"),
            ] + properties)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
            guard let rk, let opaque, let partitions else { return }
            Unmanaged<Callbacks>.fromOpaque(opaque).takeUnretainedValue().rebalance(rk, err, partitions)
        }
        rk = try KafkaConfig.subscribedConsumer(conf, address: address)
    }

    deinit { close() }

    /// The partitions this member holds now.
    public var held: Set<Int32> { callbacks.held }

    /// Whether the group has taken this member's partitions away without a revocation (it stopped
    /// polling past max.poll.interval.ms, or its session timed out): its states are no longer its own.
    public var assignmentLost: Bool { rd_kafka_assignment_lost(rk) != 0 }
    /// Rebalances this member took part in (assignments and revocations).
    public var rebalances: Int { callbacks.rebalances }

    /// True when the member holds partitions and has read each to its end.
    public var isAtEnd: Bool { !callbacks.held.isEmpty && callbacks.held.isSubset(of: callbacks.atEnd) }

    /// The next message, waiting at most `timeout` seconds; nil when none came. Rebalances happen
    /// in here; a handover that failed is thrown here.
    public func next(timeout: Double) throws -> KafkaMessage? {
        let message = rd_kafka_consumer_poll(rk, Int32(max(0, timeout * 1000)))
        if let failure = callbacks.failure {
            callbacks.failure = nil
            if let message { rd_kafka_message_destroy(message) }
            throw failure
        }
        guard let message else { return nil }
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            if callbacks.held.contains(m.partition) { callbacks.atEnd.insert(m.partition) }
            return nil
        }
        guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            // Transient broker errors are retried by librdkafka; report and go on.
            StandardError.line("kafka: \(address.topic): \(KafkaConfig.errorName(m.err))")
            return nil
        }
        // A message of a partition given away while it was fetched is not ours to fold.
        guard callbacks.held.contains(m.partition) else { return nil }
        callbacks.atEnd.remove(m.partition)
        buffer.removeAll(keepingCapacity: true)
        // A message over the line limit keeps only its start: the intake makes it a dead letter.
        let kept = m.len > maxLineBytes ? min(m.len, LineReader.keptBytes) : m.len
        if let payload = m.payload { buffer.append(contentsOf: UnsafeRawBufferPointer(start: payload, count: kept)) }
        let bytes = buffer.withUnsafeBytes { UnsafeRawBufferPointer(start: $0.baseAddress, count: $0.count) }
        return KafkaMessage(partition: m.partition, offset: m.offset, bytes: bytes, length: m.len)
    }

    /// Leaves the group: the handover's `revoke` runs for every partition still held.
    public func close() {
        guard !closed else { return }
        closed = true
        rd_kafka_consumer_close(rk)
        rd_kafka_destroy(rk)
    }
}

extension KafkaGroupConsumer.Callbacks {
    func rebalance(
        _ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let partitions = (0..<Int(list.pointee.cnt)).map { list.pointee.elems[$0].partition }
        let topic = list.pointee.cnt > 0 ? String(cString: list.pointee.elems[0].topic) : ""
        let names = partitions.sorted().map(String.init).joined(separator: ",")
        rebalances += 1
        if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            var offsets: [Int32: Int64] = [:]
            do {
                offsets = try handover?.assign(partitions) ?? [:]
            } catch {
                // Assigned anyway, so that librdkafka's state stays consistent; `next` throws and
                // the member exits, which hands the partitions on.
                failure = failure ?? error
            }
            for i in 0..<Int(list.pointee.cnt) {
                let p = list.pointee.elems[i].partition
                list.pointee.elems[i].offset = offsets[p] ?? Int64(RD_KAFKA_OFFSET_BEGINNING)
            }
            held.formUnion(partitions)
            atEnd.subtract(partitions)
            if cooperative {
                if let e = rd_kafka_incremental_assign(rk, list) { fail(e) }
            } else {
                rd_kafka_assign(rk, list)
            }
            StandardError.line("kafka: assigned partitions \(names) of \(topic); holding \(describe(held))")
        } else {
            let lost = rd_kafka_assignment_lost(rk) != 0
            if lost {
                handover?.lose(partitions)
            } else {
                do { try handover?.revoke(partitions) } catch { failure = failure ?? error }
            }
            held.subtract(partitions)
            atEnd.subtract(partitions)
            if cooperative {
                if let e = rd_kafka_incremental_unassign(rk, list) { fail(e) }
            } else {
                rd_kafka_assign(rk, nil)
            }
            StandardError.line(
                "kafka: partitions \(names) of \(topic) \(lost ? "lost" : "revoked"); holding \(describe(held))"
            )
        }
    }

    private func describe(_ partitions: Set<Int32>) -> String {
        partitions.isEmpty ? "none" : partitions.sorted().map(String.init).joined(separator: ",")
    }

    private func fail(_ error: OpaquePointer) {
        failure = failure ?? KafkaError("kafka rebalance: \(String(cString: rd_kafka_error_string(error)))")
        rd_kafka_error_destroy(error)
    }
}
