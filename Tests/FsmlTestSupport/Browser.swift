import Foundation

/// A report as a real browser renders it: headless Chromium (Debian's `chromium`, installed by
/// scripts/setup.sh) loads the file, and the test reads the DOM it parsed, every console message it
/// logged and the screenshot it took.
public struct RenderedReport {
    /// The document after parsing (`--dump-dom`).
    public var dom: String
    /// Console messages the page logged; a report has none.
    public var consoleMessages: [String]
    /// Bytes of the PNG screenshot.
    public var screenshotBytes: Int

    /// The names of the line series of every chart, in order.
    public var seriesNames: [String] { Self.attribute("data-name", in: dom) }
    /// The labels of every bar.
    public var barLabels: [String] { Self.attribute("data-label", in: dom) }
    public var chartCount: Int { dom.components(separatedBy: "<svg").count - 1 }

    /// The texts of `<text class="NAME">` elements (tick-x, tick-y, legend).
    public func texts(class name: String) -> [String] {
        dom.components(separatedBy: "<text class=\"\(name)\"").dropFirst().compactMap { part in
            guard let open = part.firstIndex(of: ">"), let close = part.range(of: "</text>") else { return nil }
            return String(part[part.index(after: open)..<close.lowerBound])
        }
    }

    static func attribute(_ name: String, in dom: String) -> [String] {
        dom.components(separatedBy: " \(name)=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }
}

public enum Browser {
    public struct Missing: Error, CustomStringConvertible {
        public let description = "chromium is not installed: run scripts/setup.sh (make test does)"
    }

    public static var executable: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Renders the HTML file at `path`.
    public static func render(_ path: String, width: Int = 1150, height: Int = 1400) throws -> RenderedReport {
        guard let chromium = executable else { throw Missing() }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-browser-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let url = URL(fileURLWithPath: path).absoluteString
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--user-data-dir=\(scratch)/profile", "--enable-logging=stderr", "--v=0",
        ]
        let dump = try ChildProcess(
            chromium, common + ["--dump-dom", url], stdout: "\(scratch)/dom.html", stderr: "\(scratch)/dom.log")
        _ = dump.wait()
        let shot = try ChildProcess(
            chromium, common + ["--window-size=\(width),\(height)", "--screenshot=\(scratch)/page.png", url],
            stderr: "\(scratch)/shot.log")
        _ = shot.wait()
        let logs = [scratch + "/dom.log", scratch + "/shot.log"].compactMap {
            try? String(contentsOfFile: $0, encoding: .utf8)
        }
        let console = logs.flatMap { $0.split(separator: "\n") }.filter { $0.contains(":CONSOLE") }.map(String.init)
        let size = ((try? FileManager.default.attributesOfItem(atPath: scratch + "/page.png"))?[.size] as? Int) ?? 0
        return RenderedReport(
            dom: (try? String(contentsOfFile: scratch + "/dom.html", encoding: .utf8)) ?? "", consoleMessages: console,
            screenshotBytes: size)
    }
}
