import FsmlCore
import GBDT

/// How a study searches: the command line's values first, then the `tune:` block of a space
/// file, then the defaults (30 trials unless a timeout is given, TPE, no pruning, 3 folds,
/// valid_auc, seed 0).
public struct TuningSettings: Sendable {
    public var space: SearchSpace
    /// Trials to run; nil: as many as the timeout allows.
    public var trials: Int?
    /// Start no trial after this long.
    public var timeout: Micros?
    public var sampler: SamplerKind
    public var pruner: PrunerKind
    /// Rolling-origin folds by time.
    public var cv: Int
    public var metric: MetricKind
    public var seed: UInt64

    /// The settings given, completed from `spaceFile`'s `tune:` block (when there is one) and the
    /// defaults. `spaces` are `name=kind(args)` items, used when there is no space file. A bad
    /// value in the file names the file and its key.
    public static func resolve(
        spaces: [String], spaceFile: String?, trials: Int? = nil, timeout: String? = nil, metric: String? = nil,
        sampler: SamplerKind? = nil, pruner: PrunerKind? = nil, cv: Int? = nil, seed: UInt64? = nil
    ) throws -> TuningSettings {
        var space: SearchSpace
        var file: [String: String] = [:]
        if let path = spaceFile {
            (space, file) = try SearchSpace.parseYAML(try FileSystem.readText(path), file: path)
        } else {
            space = try SearchSpace.parse(spaces.joined(separator: " "))
        }
        func fileValue<T>(_ key: String, _ parse: (String) -> T?) throws -> T? {
            guard let text = file[key] else { return nil }
            guard let v = parse(text) else { throw WorkflowError("\(spaceFile!): tune.\(key): '\(text)' is not valid") }
            return v
        }
        var trials = try trials ?? fileValue("trials") { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        let timeout = try timeout.flatMap(DurationText.parse) ?? fileValue("timeout", DurationText.parse)
        if trials == nil && timeout == nil { trials = 30 }
        let metricName = try metric ?? fileValue("metric") { $0 } ?? "valid_auc"
        let bare = (metricName.hasPrefix("valid_") ? String(metricName.dropFirst(6)) : metricName)
            .replacingOccurrences(of: "_at_", with: "@")
        guard let kind = MetricKind(name: bare) else {
            throw WorkflowError(
                "--metric \(metricName): one of \(MetricKind.allCases.map { "valid_\($0.rawValue)" }.joined(separator: ", "))"
            )
        }
        return TuningSettings(
            space: space, trials: trials, timeout: timeout,
            sampler: try sampler ?? fileValue("sampler") { SamplerKind(rawValue: $0) } ?? .tpe,
            pruner: try pruner ?? fileValue("pruner") { PrunerKind(rawValue: $0) } ?? .none,
            cv: try cv ?? fileValue("cv") { Int($0).flatMap { $0 > 0 ? $0 : nil } } ?? 3, metric: kind,
            seed: try seed ?? fileValue("seed") { UInt64($0) } ?? 0)
    }
}

/// How trials are stopped early.
public enum PrunerKind: String, CaseIterable, Sendable {
    /// Every trial trains its full rounds.
    case none
    /// Successive halving over boosting rounds.
    case halving
    /// Halving in brackets that start at each rung, trials dealt to them in turn.
    case hyperband
}
