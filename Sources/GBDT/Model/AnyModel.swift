import FsmlCore

/// Any model fsml can score with: its own trees, its logistic baseline, or an XGBoost JSON or
/// UBJSON or LightGBM text model (imported on load).
public enum AnyModel: Sendable {
    case gbdt(GBDTModel)
    case logistic(LogisticModel)

    public static func load(path: String) throws -> AnyModel {
        let bytes = try FileSystem.readBytes(path)
        if bytes.starts(with: Array("tree\n".utf8)) || bytes.starts(with: Array("tree\r\n".utf8)) {
            return .gbdt(try GBDTModel.loadLightGBM(path: path))
        }
        if UBJSONReader.looksLikeObject(bytes) { return .gbdt(try GBDTModel.loadXGBoost(path: path)) }
        let root = try JSONReader.parse(bytes, file: path)
        if root["learner"] != nil { return .gbdt(try GBDTModel.loadXGBoost(path: path)) }
        switch root["format"]?.string {
        case GBDTModel.formatName?: return .gbdt(try GBDTModel.load(bytes: bytes, file: path))
        case LogisticModel.formatName?: return .logistic(try LogisticModel.load(bytes: bytes, file: path))
        default:
            throw ModelFileError(
                "\(path): not a model fsml knows (fsml-gbdt, fsml-logistic, XGBoost JSON or LightGBM text)")
        }
    }

    public var featureNames: [String] {
        switch self {
        case .gbdt(let m): return m.featureNames
        case .logistic(let m): return m.featureNames
        }
    }

    public var objective: ObjectiveKind {
        switch self {
        case .gbdt(let m): return m.objective
        case .logistic: return .binary
        }
    }

    /// Values a row predicts: a multiclass model's class count, 1 otherwise.
    public var outputsPerRow: Int {
        if case .gbdt(let m) = self { return m.numClass }
        return 1
    }

    /// Predictions (probabilities or values) for every row; `outputsPerRow` a row, row after row.
    public func predict(_ matrix: DenseMatrix, threads: Int = Parallel.defaultThreads) -> [Double] {
        switch self {
        case .gbdt(let m): return FlatPredictor(m).predict(matrix, threads: threads)
        case .logistic(let m): return m.predict(matrix)
        }
    }

    public func save(to path: String) throws {
        switch self {
        case .gbdt(let m): try m.save(to: path)
        case .logistic(let m): try m.save(to: path)
        }
    }
}
