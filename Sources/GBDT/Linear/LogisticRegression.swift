import CCBLAS
import CLAPACKE
import Foundation
import FsmlCore

/// L2-regularized logistic regression: what a data scientist puts beside trees. Features are
/// standardized with the training means and deviations; a missing value is imputed with the mean
/// (0 after standardization). The intercept is not penalized.
public struct LogisticModel: Sendable, Equatable {
    public var featureNames: [String]
    public var means: [Double]
    public var scales: [Double]
    /// Weights on the standardized features.
    public var weights: [Double]
    public var intercept: Double
    public var lambda: Double

    public func margin(_ row: UnsafePointer<Float>) -> Double {
        var z = intercept
        for j in 0..<weights.count {
            let x = row[j]
            if !x.isNaN { z += weights[j] * ((Double(x) - means[j]) / scales[j]) }
        }
        return z
    }

    public func predict(_ row: UnsafePointer<Float>) -> Double { 1 / (1 + exp(-margin(row))) }

    public func predict(_ matrix: DenseMatrix) -> [Double] {
        matrix.values.withUnsafeBufferPointer { v in
            (0..<matrix.rows).map { predict(v.baseAddress! + $0 * matrix.columns) }
        }
    }

    /// Weights on the original scale: the effect of one unit of each feature on the log-odds.
    public var rawWeights: [Double] { zip(weights, scales).map { $0 / $1 } }
}

/// Newton's method (iteratively reweighted least squares): each step solves
/// (XᵀWX + λI) Δ = Xᵀ(p − y) + λw with a Cholesky factorization (LAPACKE_dposv); XᵀWX comes from
/// BLAS (dsyrk) over blocks of rows, so memory stays at one block whatever the data size.
public enum LogisticRegression {
    public struct Result: Sendable {
        public var model: LogisticModel
        public var history: [IterationRecord]
        public var iterations: Int
        public var trainingSeconds: Double
    }

    public static func train(
        _ train: LabeledData, valid: LabeledData? = nil, lambda: Double = 1, maxIterations: Int = 50,
        tolerance: Double = 1e-8, metrics: [MetricKind] = [.logloss, .auc, .prAUC, .accuracy],
        onIteration: ((IterationRecord) -> Void)? = nil
    ) throws -> Result {
        if let problem = ObjectiveKind.binary.validate(labels: train.labels) {
            throw TrainingError(description: "training data: \(problem)")
        }
        let start = monotonicNanos()
        let x = train.features
        let n = x.rows
        let f = x.columns
        let d = f + 1  // the intercept is column 0
        var means = [Double](repeating: 0, count: f)
        var scales = [Double](repeating: 1, count: f)
        for j in 0..<f {
            var sum = 0.0
            var sumSq = 0.0
            var count = 0.0
            for i in 0..<n {
                let v = x[i, j]
                if v.isNaN { continue }
                sum += Double(v)
                sumSq += Double(v) * Double(v)
                count += 1
            }
            if count > 0 {
                means[j] = sum / count
                let variance = max(sumSq / count - means[j] * means[j], 0)
                scales[j] = variance > 1e-24 ? variance.squareRoot() : 1
            }
        }
        var w = [Double](repeating: 0, count: d)
        let base = train.labels.reduce(0.0) { $0 + Double($1) } / Double(n)
        w[0] = log(max(base, 1e-12) / max(1 - base, 1e-12))
        var history: [IterationRecord] = []
        let block = 16_384
        var xb = [Double](repeating: 0, count: block * d)
        var ab = [Double](repeating: 0, count: block * d)
        var iterations = 0
        for iteration in 0..<maxIterations {
            var hessian = [Double](repeating: 0, count: d * d)
            var gradient = [Double](repeating: 0, count: d)
            var lo = 0
            while lo < n {
                let rows = min(block, n - lo)
                fillStandardized(x, rows: lo..<lo + rows, means: means, scales: scales, into: &xb)
                var z = [Double](repeating: 0, count: rows)
                cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(d), 1, xb, Int32(d), w, 1, 0, &z, 1)
                var residual = [Double](repeating: 0, count: rows)
                for i in 0..<rows {
                    let p = 1 / (1 + exp(-z[i]))
                    residual[i] = p - Double(train.labels[lo + i])
                    let s = (max(p * (1 - p), 1e-12)).squareRoot()
                    for j in 0..<d { ab[i * d + j] = xb[i * d + j] * s }
                }
                // gradient += Xᵀ r ; hessian += Aᵀ A (upper triangle)
                cblas_dgemv(
                    CblasRowMajor, CblasTrans, Int32(rows), Int32(d), 1, xb, Int32(d), residual, 1, 1, &gradient, 1)
                cblas_dsyrk(
                    CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(rows), 1, ab, Int32(d), 1, &hessian, Int32(d)
                )
                lo += rows
            }
            for j in 1..<d {
                gradient[j] += lambda * w[j]
                hessian[j * d + j] += lambda
            }
            // Keeps the intercept's equation solvable when every row has the same label.
            hessian[0] += 1e-10
            let info = LAPACKE_dposv(
                LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "U")), Int32(d), 1, &hessian, Int32(d), &gradient, 1)
            guard info == 0 else {
                throw TrainingError(
                    description:
                        "the Newton system is not positive definite (LAPACKE_dposv info \(info)); raise lambda_l2")
            }
            var step = 0.0
            for j in 0..<d {
                w[j] -= gradient[j]
                step = max(step, abs(gradient[j]))
            }
            iterations = iteration + 1
            let model = LogisticModel(
                featureNames: x.featureNames, means: means, scales: scales, weights: Array(w[1...]), intercept: w[0],
                lambda: lambda)
            var record = IterationRecord(iteration: iterations, train: [], valid: [])
            let p = model.predict(x)
            record.train = Metrics.evaluate(metrics, predictions: p, labels: train.labels)
            if let valid {
                let q = model.predict(valid.features)
                record.valid = Metrics.evaluate(metrics, predictions: q, labels: valid.labels)
            }
            history.append(record)
            onIteration?(record)
            if step < tolerance { break }
        }
        let model = LogisticModel(
            featureNames: x.featureNames, means: means, scales: scales, weights: Array(w[1...]), intercept: w[0],
            lambda: lambda)
        return Result(
            model: model, history: history, iterations: iterations,
            trainingSeconds: Double(monotonicNanos() - start) / 1e9)
    }

    private static func fillStandardized(
        _ x: DenseMatrix, rows: Range<Int>, means: [Double], scales: [Double], into out: inout [Double]
    ) {
        let f = x.columns
        let d = f + 1
        for (k, i) in rows.enumerated() {
            out[k * d] = 1
            for j in 0..<f {
                let v = x[i, j]
                out[k * d + j + 1] = v.isNaN ? 0 : (Double(v) - means[j]) / scales[j]
            }
        }
    }
}

extension LogisticModel {
    public static let formatName = "fsml-logistic"

    public func jsonValue() -> JSONValue {
        .object([
            ("format", .string(Self.formatName)), ("format_version", .int(1)),
            ("fsml_version", .string(FsmlVersion.current)), ("objective", .string(ObjectiveKind.binary.rawValue)),
            ("lambda_l2", .number(lambda)), ("intercept", .number(intercept)),
            ("feature_names", .array(featureNames.map { .string($0) })),
            ("means", .array(means.map { .number($0) })), ("scales", .array(scales.map { .number($0) })),
            ("weights", .array(weights.map { .number($0) })),
        ])
    }

    public func save(to path: String) throws {
        try FileSystem.writeAtomically(JSONText.render(jsonValue()) + "\n", to: path)
    }

    public static func load(bytes: [UInt8], file: String) throws -> LogisticModel {
        let r = JSONReader(file: file)
        let root = try r.object(JSONReader.parse(bytes, file: file), "the model")
        guard root["format"]?.string == formatName else { throw ModelFileError("\(file): not an fsml logistic model") }
        let names = try r.array(root["feature_names"], "feature_names").enumerated().map {
            try r.string($0.element, "feature_names[\($0.offset)]")
        }
        let model = LogisticModel(
            featureNames: names, means: try r.doubles(root["means"], "means"),
            scales: try r.doubles(root["scales"], "scales"),
            weights: try r.doubles(root["weights"], "weights"), intercept: try r.double(root["intercept"], "intercept"),
            lambda: try r.double(root["lambda_l2"], "lambda_l2"))
        guard model.means.count == names.count, model.scales.count == names.count, model.weights.count == names.count
        else {
            throw ModelFileError("\(file): means, scales and weights must have one entry per feature")
        }
        return model
    }
}
