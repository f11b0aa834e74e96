import Foundation
import Testing

/// The module cut, checked against Package.swift itself (`swift package describe`): pure targets
/// stay pure, and docs/design.md draws the targets that exist, with the dependencies they have.
@Suite struct PackageArchitectureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Target {
        let name: String
        let type: String
        let dependencies: Set<String>
        let products: Set<String>
    }

    /// Every target of the package, by name.
    static let targets: [String: Target] = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Another scratch path: `swift test` holds the lock of .build, and describe needs no build.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fsml-describe-\(UUID())").path
        process.arguments = ["swift", "package", "--scratch-path", scratch, "describe", "--type", "json"]
        process.currentDirectoryURL = root
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try! process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let json = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        var targets: [String: Target] = [:]
        for t in json["targets"] as! [[String: Any]] {
            let name = t["name"] as! String
            targets[name] = Target(
                name: name, type: t["type"] as! String,
                dependencies: Set(t["target_dependencies"] as? [String] ?? []),
                products: Set(t["product_dependencies"] as? [String] ?? []))
        }
        return targets
    }()

    /// What the pure and the feature-free targets may import, at most.
    static let allowed: [String: Set<String>] = [
        "FsmlCore": ["CZlib"],
        "FeatureCore": ["FsmlCore"],
        "Parquet": ["FsmlCore"],
        "GBDT": ["FsmlCore", "CPrefetch", "CCBLAS", "CLAPACKE"],
        "Tracking": ["FsmlCore", "GBDT"],
        "EventGenerator": ["FsmlCore"],
    ]

    @Test func pureTargetsGainNoIOAndNoCLibrary() throws {
        for (name, allowed) in Self.allowed {
            let target = try #require(Self.targets[name], "\(name) is not in Package.swift")
            #expect(target.dependencies.isSubset(of: allowed), "\(name) depends on \(target.dependencies)")
            #expect(target.products.isEmpty, "\(name) depends on packages \(target.products)")
        }
        // The core imports nothing beyond the standard library, Foundation and FsmlCore.
        let core = Self.root.appendingPathComponent("Sources/FeatureCore")
        let files = FileManager.default.enumerator(at: core, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 20)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                #expect(["import Foundation", "import FsmlCore"].contains(line), "\(file.lastPathComponent): \(line)")
            }
        }
        #expect(!Self.targets["Streaming"]!.dependencies.contains("PointInTime"))
        #expect(!Self.targets["Serving"]!.dependencies.contains("Streaming"))
    }

    /// docs/design.md: the rows of its diagram and its table of targets.
    static func design() throws -> (rows: [String: Int], table: [String: Set<String>]) {
        let text = try String(contentsOf: root.appendingPathComponent("docs/design.md"), encoding: .utf8)
        var rows: [String: Int] = [:]
        var table: [String: Set<String>] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(separator: " ").map(String.init)
            if words.count >= 3, words[0] == "row" {
                let level = Int(words[1]) ?? -1
                for name in words.dropFirst(2) { rows[name] = level }
            }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if cells.count == 5, cells[1].hasPrefix("`") {
                let names = cells[1].split(separator: ",").map {
                    $0.trimmingCharacters(in: CharacterSet(charactersIn: " `"))
                }
                let deps = Set(
                    cells[2].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                        !$0.isEmpty
                    })
                for name in names { table[name] = deps }
            }
        }
        return (rows, table)
    }

    @Test func theDesignDocumentDrawsExactlyThePackagesTargets() throws {
        let (rows, table) = try Self.design()
        let sources = Set(Self.targets.values.filter { $0.type != "test" }.map(\.name))
        let drawn = Set(rows.keys).union(["FsmlTestSupport"])
        #expect(drawn == sources, "diagram: \(drawn.symmetricDifference(sources))")
        #expect(Set(table.keys) == sources, "table: \(Set(table.keys).symmetricDifference(sources))")
        for (name, deps) in table {
            #expect(Self.targets[name]?.dependencies ?? [] == deps, "\(name): the table says \(deps)")
        }
        // Each target imports only targets on lower rows.
        for (name, level) in rows {
            for dep in Self.targets[name]?.dependencies ?? [] {
                #expect(rows[dep].map { $0 < level } ?? false, "\(name) (row \(level)) imports \(dep)")
            }
        }
    }

    /// Sources name no field, entity or feature of the reference shop outside the templates and
    /// the generators: the server, the builder and every command work from fsml.yaml alone.
    @Test func noReferenceNameIsHardCodedInSources() throws {
        let names = [
            "user_id", "product_id", "session_id", "event_type", "page_view", "add_to_cart", "purchase", "price",
            "currency", "added_to_cart", "user_views", "prod_ctr", "prod_rev", "sess_duration", "sess_unique",
            "device\\.os", "device\\.mobile", "geo\\.country", "geo\\.city",
        ]
        let allowed = [
            "Sources/EventGenerator/", "Sources/FeatureConfig/ReferenceProject.swift",
            "Sources/FeatureConfig/RiskProject.swift",
            "Sources/fsml/Commands/GenerateEvents.swift",
        ]
        let sources = Self.root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 100)
        for file in files {
            let relative = "Sources/" + file.path.dropFirst(sources.path.count + 1)
            guard !allowed.contains(where: { relative.hasPrefix($0) }) else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                // MLflow's own run metadata has a user_id.
                if relative.hasPrefix("Sources/Tracking/") && line.contains("\"user_id\"") { continue }
                for name in names where line.range(of: "\\b\(name)\\b", options: .regularExpression) != nil {
                    Issue.record("\(relative):\(i + 1) names '\(name)': \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
    }
}
