import Foundation
import Testing

@testable import FsmlCore

@Suite struct SystemTests {
    @Test func availableMemoryIsTheLowerOfTheMachineAndItsControlGroup() throws {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        let available = availableMemoryBytes()
        #expect(available > 0 && available <= physical)
        // A control group's limit, when one is set, is what the process gets.
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }
            #expect(available <= limit)
        }
    }

    @Test func peakResidentMemoryCoversWhatWasTouched() {
        let bytes = 64 << 20
        let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        defer { block.deallocate() }
        for i in stride(from: 0, to: bytes, by: 4096) {
            block.storeBytes(of: UInt8(1), toByteOffset: i, as: UInt8.self)
        }
        #expect(peakRSSBytes() >= bytes)
    }
}
