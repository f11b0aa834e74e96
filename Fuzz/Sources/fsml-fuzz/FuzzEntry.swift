import Foundation
import FuzzTargets

/// The target this process fuzzes, named by FSML_FUZZ_TARGET (`make fuzz` sets it).
let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["FSML_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.named(name) else {
        let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("fsml-fuzz: set FSML_FUZZ_TARGET to one of \(names)\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer calls this with each input it makes; it supplies `main`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
