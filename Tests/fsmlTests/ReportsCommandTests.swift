import Foundation
import FsmlCore
import FsmlTestSupport
import Testing

/// `fsml reports`: the index shows every check's verdict, read from the JSON reports beside it.
@Suite struct ReportsCommandTests {
    @Test func theIndexShowsEveryChecksVerdict() throws {
        let dir = try BinaryRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reports = "\(dir)/reports"
        try FileSystem.createDirectory(reports)
        try FileSystem.writeAtomically(
            #"{"passed": true, "mismatches": 0, "compared": 2600}"#, to: "\(reports)/parity.json")
        try FileSystem.writeAtomically(
            #"{"passed": true, "expectations": [{"column": "price", "check": "range", "passed": true}]}"#,
            to: "\(reports)/validate.json")
        // A skew report from before `passed` was written: the verdict comes from its flags.
        try FileSystem.writeAtomically(
            #"{"features": [{"feature": "sess_duration_s", "flagged": true}, {"feature": "price_now", "flagged": false}]}"#,
            to: "\(reports)/skew.json")
        let result = try BinaryRunner.run(["reports", "--dir", reports], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("check parity: passed (0 mismatches in 2600 values)"))
        #expect(result.stdout.contains("check validate: passed (1 expectations met)"))
        #expect(result.stdout.contains("check skew: FAILED (1 of 2 features flagged: sess_duration_s)"))
        let index = try FileSystem.readText("\(reports)/index.html")
        #expect(index.contains("1 of 3 checks failed</b>: skew."))
        #expect(index.contains("<a href=\"skew.html\">skew</a>"))
        let page = try Browser.render("\(reports)/index.html")
        #expect(page.consoleMessages.isEmpty, "\(page.consoleMessages)")
        #expect(page.screenshotBytes > 5000 && page.dom.contains("1 of 3 checks failed"))
    }
}
