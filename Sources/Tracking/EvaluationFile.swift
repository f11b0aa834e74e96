import FsmlCore
import GBDT

/// A run's evaluation as JSON (`evaluation.json` among its artifacts, or
/// `evaluations/<name>.json` for a backtest): the curves that `compare runs --html` overlays.
public struct EvaluationFile: Sendable {
    public var evaluation: BinaryEvaluation
    public var segments: [(column: String, results: [SegmentResult])]
    /// The same rows scored before calibration, when the model was calibrated.
    public var uncalibrated: BinaryEvaluation?

    public init(evaluation: BinaryEvaluation, segments: [(column: String, results: [SegmentResult])]) {
        self.evaluation = evaluation
        self.segments = segments
    }

    static func interval(_ key: String, _ i: Interval?) -> [(String, JSONValue)] {
        i.map { [(key, .array([.number($0.lower), .number($0.upper)]))] } ?? []
    }

    public func json() -> JSONValue {
        let e = evaluation
        func curve(_ c: [CurvePoint]) -> JSONValue { .array(c.map { .array([.number($0.x), .number($0.y)]) }) }
        return .object([
            ("format", .string("fsml-evaluation")), ("version", .int(1)),
            ("rows", .int(e.rows)), ("positives", .int(e.positives)),
            ("metrics", .object(e.metrics.map { ($0.0, .number($0.1)) })),
            (
                "uncalibrated_metrics",
                uncalibrated.map { u in .object(u.metrics.map { ($0.0, .number($0.1)) }) } ?? .null
            ),
            ("roc", curve(e.roc)), ("pr", curve(e.pr)),
            (
                "reliability",
                .array(
                    e.reliability.map {
                        .object([
                            ("lower", .number($0.lower)), ("upper", .number($0.upper)), ("count", .int($0.count)),
                            ("mean_predicted", .number($0.meanPredicted)), ("observed_rate", .number($0.observedRate)),
                        ])
                    })
            ),
            (
                "top_k",
                .array(
                    e.topK.map {
                        .object([
                            ("label", .string($0.label)), ("k", .int($0.k)), ("precision", .number($0.precision)),
                            ("lift", .number($0.lift)),
                        ])
                    })
            ),
            (
                "segments",
                .object(
                    segments.map { column, results in
                        (
                            column,
                            .array(
                                results.map {
                                    .object(
                                        [
                                            ("value", .string($0.value)), ("rows", .int($0.rows)),
                                            ("positives", .int($0.positives)), ("auc", .number($0.auc)),
                                            ("logloss", .number($0.logloss)),
                                        ] + Self.interval("auc_ci95", $0.aucInterval)
                                            + Self.interval("logloss_ci95", $0.loglossInterval))
                                })
                        )
                    })
            ),
        ])
    }

    /// The ROC curve of a stored evaluation (all `compare --html` needs from it).
    public static func rocCurve(_ bytes: [UInt8]) -> [CurvePoint] {
        guard let node = try? JSONParser.parse(bytes), let points = node["roc"]?.array else { return [] }
        return points.compactMap { p in
            guard let xy = p.array, xy.count == 2, let x = xy[0].double, let y = xy[1].double else { return nil }
            return CurvePoint(x: x, y: y)
        }
    }
}
