import NIOCore

/// The bytes a connection has received and not yet parsed. A `ByteBuffer` never gives back the
/// room of bytes already read, so a connection whose reads keep ending inside a message (a
/// pipelining client, or TCP cutting requests anywhere) would hold every byte it was ever sent;
/// `settle` drops what was read once a parse pass is done, as NIO's own decoders do.
enum ReceivedBytes {
    static func append(_ chunk: inout ByteBuffer, to received: inout ByteBuffer?) {
        if received == nil { received = chunk } else { received!.writeBuffer(&chunk) }
    }

    /// After a parse pass: nothing left gives the buffer back to the channel; a partial message
    /// moves to the buffer's start.
    static func settle(_ received: inout ByteBuffer?) {
        guard let r = received else { return }
        if r.readableBytes == 0 {
            received = nil
        } else if r.readerIndex > 0 {
            received!.discardReadBytes()
        }
    }
}
