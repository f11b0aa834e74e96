#if os(Linux)
    import Glibc
#endif

/// Memory for the trainer's large arrays, on 2 MiB pages where the system allows.
///
/// Below the root, a leaf's rows are read at scattered places over tens of megabytes. With 4 KiB
/// pages nearly every such read first misses the address-translation cache and waits for a page
/// walk; with 2 MiB pages the whole array needs a few dozen entries.
enum LargeBuffer {
    static let hugePage = 2 << 20

    /// Zeroed memory of at least `bytes` bytes, aligned to a huge page. Free with `deallocate`.
    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let size = max(bytes, 1)
        #if os(Linux)
            if size >= hugePage {
                let rounded = (size + hugePage - 1) / hugePage * hugePage
                var memory: UnsafeMutableRawPointer?
                if posix_memalign(&memory, hugePage, rounded) == 0, let memory {
                    // Advice only: when the kernel declines, the memory works on small pages.
                    _ = madvise(memory, rounded, MADV_HUGEPAGE)
                    memory.initializeMemory(as: UInt8.self, repeating: 0, count: rounded)
                    return memory
                }
            }
        #endif
        let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return memory
    }

    static func deallocate(_ memory: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
            if max(bytes, 1) >= hugePage {
                free(memory)
                return
            }
        #endif
        memory.deallocate()
    }
}
