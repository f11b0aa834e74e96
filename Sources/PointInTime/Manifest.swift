import FeatureCore
import Foundation
import FsmlCore

/// NAME.manifest.json beside a dataset: what it holds, how it was made, from what. Training runs
/// record its hash, so a model can be traced to its data and its feature definitions.
public struct DatasetManifest {
    public static func path(forDataset path: String) -> String {
        for ext in [".parquet", ".csv"] where path.hasSuffix(ext) {
            return String(path.dropLast(ext.count)) + ".manifest.json"
        }
        return path + ".manifest.json"
    }

    /// Refuses a dataset that is not the one its manifest describes (its bytes changed or were
    /// replaced): a model trained on it could not be traced to how it was made.
    public static func verify(dataset datasetPath: String, manifest manifestPath: String) throws {
        let node: JSONNode
        do { node = try JSONParser.parse(try FileSystem.readBytes(manifestPath)) } catch {
            throw BuildError(description: "\(manifestPath): not a readable manifest (\(error))")
        }
        guard let expected = node["dataset"]?["sha256"]?.string, !expected.isEmpty else {
            throw BuildError(description: "\(manifestPath): the manifest records no checksum for its dataset")
        }
        let actual = try SHA256.hex(ofFile: datasetPath)
        guard actual == expected else {
            throw BuildError(
                description:
                    "\(datasetPath) does not match its manifest (sha256 \(actual.prefix(12))…, the manifest says \(expected.prefix(12))…); rebuild it with `fsml build`, or remove \(manifestPath) to train on it untraced"
            )
        }
    }

    public static func json(
        registry: FeatureRegistry, report: BuildReport, options: BuildOptions, datasetPath: String,
        format: DatasetFormat,
        kind: String, columns: [String], timeColumn: String, storeRoot: String, seconds: Double,
        sha256: String? = nil
    ) -> JSONValue {
        func time(_ t: Micros?) -> JSONValue { t.map { .string(Timestamp.format($0)) } ?? .null }
        let features: [JSONValue] = report.features.map { f in
            let spec = registry.features[f]
            return .object([
                ("name", .string(spec.name)), ("entity", .string(registry.entities[spec.entity].name)),
                ("view", spec.view.map(JSONValue.string) ?? .null),
                ("definition_hash", .string(registry.definitionHash(of: f))),
                ("definition", .string(registry.canonicalDefinition(of: f))),
            ])
        }
        var pairs: [(String, JSONValue)] = [
            ("format", .string("fsml-dataset-manifest")), ("format_version", .int(1)),
            ("fsml_version", .string(FsmlVersion.current)),
            ("created_at", .string(Timestamp.format(wallClockMicros()))),
            (
                "dataset",
                .object([
                    ("path", .string(datasetPath)), ("format", .string(format.rawValue)), ("rows", .int(report.rows)),
                    ("bytes", .int(FileSystem.fileSize(datasetPath) ?? 0)),
                    ("sha256", .string(sha256 ?? (try? SHA256.hex(ofFile: datasetPath)) ?? "")),
                ])
            ),
            ("kind", .string(kind)),
            ("semantics", .string(options.eventTimeOnly ? "event_time_only" : "as_known")),
        ]
        if kind == "examples", let label = registry.label {
            pairs.append(
                (
                    "label",
                    .object([
                        ("name", .string(label.name)), ("example", .string("\(label.example)")),
                        ("outcome", .string("\(label.outcome)")),
                        ("same", .array(label.same.map { .string(registry.schema.fields[$0].name) })),
                        ("within", .string(DurationText.format(label.within))), ("positives", .int(report.positives)),
                        ("rate", report.rows > 0 ? .number(Double(report.positives) / Double(report.rows)) : .null),
                    ])
                ))
            pairs.append(("immature_examples", .int(report.immature)))
        }
        pairs.append(("examples_found", .int(report.examples)))
        pairs.append(
            (
                "time_range",
                .object([
                    ("start", time(options.start)), ("end", time(options.end)),
                    ("first_example", time(report.firstExample)),
                    ("last_example", time(report.lastExample)), ("labels_settled_until", time(report.settledUntil)),
                ])
            ))
        pairs.append(
            (
                "columns",
                .object([
                    ("all", .array(columns.map { .string($0) })), ("time", .string(timeColumn)),
                    ("features", .array(report.features.map { .string(registry.features[$0].name) })),
                    ("label", kind == "examples" ? .string(registry.label?.name ?? "label") : .null),
                ])
            ))
        pairs.append(("features", .array(features)))
        let registryBytes = (try? FileSystem.readBytes(registry.source)) ?? []
        pairs.append(
            (
                "registry",
                .object([
                    ("project", .string(registry.project)), ("path", .string(registry.source)),
                    ("sha256", .string(SHA256.hex(of: registryBytes))),
                ])
            ))
        pairs.append(
            (
                "offline_store",
                .object([
                    ("root", .string(storeRoot)), ("events_replayed", .int(report.eventsReplayed)),
                    (
                        "files",
                        .array(report.files.map { .object([("path", .string($0.path)), ("bytes", .int($0.bytes))]) })
                    ),
                ])
            ))
        pairs.append(("build", .object([("seconds", .number(seconds)), ("peak_rss_bytes", .int(peakRSSBytes()))])))
        return .object(pairs)
    }
}
