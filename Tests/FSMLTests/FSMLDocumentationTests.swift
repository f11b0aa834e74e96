import Foundation
import Testing

/// The library's public surface is documented: every public declaration in Sources/FSML has a
/// documentation comment (attributes between them allowed), which `make docs` renders.
@Suite struct FSMLDocumentationTests {
    @Test func everyPublicSymbolHasADocumentationComment() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/FSML")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count >= 5)
        var declarations = 0
        for file in files {
            let lines = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            for (i, line) in lines.enumerated() where line.hasPrefix("public ") {
                declarations += 1
                var j = i - 1
                while j >= 0 && lines[j].hasPrefix("@") { j -= 1 }
                #expect(j >= 0 && lines[j].hasPrefix("///"), "\(file):\(i + 1): \(line)")
            }
        }
        #expect(declarations > 20)
    }
}
