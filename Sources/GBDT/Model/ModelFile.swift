import FsmlCore

public struct ModelFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reading JSON model files: typed access to parsed values, with errors that name the file and
/// the path of the bad value. Numbers convert with correct rounding, so files round-trip exactly.
struct JSONReader {
    let file: String

    func object(_ value: JSONNode?, _ path: String) throws -> JSONNode {
        guard let value, case .object = value else { throw ModelFileError("\(file): \(path) is not an object") }
        return value
    }

    func array(_ value: JSONNode?, _ path: String) throws -> [JSONNode] {
        guard let a = value?.array else { throw ModelFileError("\(file): \(path) is not a list") }
        return a
    }

    func string(_ value: JSONNode?, _ path: String) throws -> String {
        guard let s = value?.string else { throw ModelFileError("\(file): \(path) is not a string") }
        return s
    }

    func double(_ value: JSONNode?, _ path: String) throws -> Double {
        if let d = value?.double ?? value?.string.flatMap(Double.init) {
            guard d.isFinite else { throw ModelFileError("\(file): \(path) is not finite") }
            return d
        }
        throw ModelFileError("\(file): \(path) is not a number")
    }

    func int(_ value: JSONNode?, _ path: String) throws -> Int {
        guard let i = value?.int ?? value?.string.flatMap({ Int($0) }) else {
            throw ModelFileError("\(file): \(path) is not a whole number")
        }
        return i
    }

    func doubles(_ value: JSONNode?, _ path: String) throws -> [Double] {
        try array(value, path).enumerated().map { try double($0.element, "\(path)[\($0.offset)]") }
    }

    func ints(_ value: JSONNode?, _ path: String) throws -> [Int] {
        try array(value, path).enumerated().map { try int($0.element, "\(path)[\($0.offset)]") }
    }

    static func parse(_ bytes: [UInt8], file: String) throws -> JSONNode {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw ModelFileError("\(file): not valid JSON (\(error.description))")
        }
    }
}

/// fsml's model file, format version 1 (docs/model-format.md): one JSON object with the objective,
/// the initial score, feature names, training parameters and the trees in LightGBM-style arrays.
/// Numbers are written in shortest round-trip form (thresholds as the exact value of their Float32),
/// so saving and loading gives bit-identical predictions.
extension GBDTModel {
    public static let formatName = "fsml-gbdt"
    /// Version 2 is version 1 with a calibration, version 3 has categorical splits: an older
    /// reader refuses them rather than serving uncalibrated probabilities or routing categories by
    /// threshold. Models without either are still written as version 1.
    public static let formatVersion = 3
    var writtenVersion: Int {
        if trees.contains(where: { $0.hasCategoricalSplits }) { return 3 }
        return calibration == nil ? 1 : 2
    }

    public func jsonValue() -> JSONValue {
        func numbers(_ xs: [Double]) -> JSONValue { .array(xs.map { .number($0) }) }
        let treeValues: [JSONValue] = trees.map { t in
            let categorical: [(String, JSONValue)] =
                t.hasCategoricalSplits
                ? [
                    ("category_index", .array(t.categoryIndex.map { .int(Int($0)) })),
                    ("category_sets", .array(t.categorySets.map { set in .array(set.map { .int(Int($0)) }) })),
                ] : []
            return .object(
                [
                    ("leaves", .int(t.leaves)),
                    ("split_feature", .array(t.splitFeature.map { .int(Int($0)) })),
                    ("threshold", .array(t.threshold.map { .number(Double(Tree.storableThreshold($0))) })),
                    ("default_left", .array(t.defaultLeft.map { .int($0 ? 1 : 0) })),
                    ("left_child", .array(t.leftChild.map { .int(Int($0)) })),
                    ("right_child", .array(t.rightChild.map { .int(Int($0)) })),
                    ("split_gain", numbers(t.splitGain)),
                    ("internal_value", numbers(t.internalValue)),
                    ("internal_hessian", numbers(t.internalHessian)),
                    ("internal_count", .array(t.internalCount.map { .int($0) })),
                    ("leaf_value", numbers(t.leafValue)),
                    ("leaf_hessian", numbers(t.leafHessian)),
                    ("leaf_count", .array(t.leafCount.map { .int($0) })),
                ] + categorical)
        }
        return .object(
            [
                ("format", .string(Self.formatName)),
                ("format_version", .int(writtenVersion)),
                ("fsml_version", .string(FsmlVersion.current)),
                ("trained_by", .string(trainedBy)),
                ("objective", .string(objective.rawValue)),
                ("init_score", .number(initScore)),
            ] + (numClass > 1 ? [("num_class", .int(numClass))] : []) + [
                ("best_iteration", .int(bestIteration)),
                ("num_trees", .int(trees.count)),
                ("feature_names", .array(featureNames.map { .string($0) })),
                ("parameters", .object(parameters.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                ("trees", .array(treeValues)),
            ] + (calibration.map { [("calibration", $0.jsonValue())] } ?? []))
    }

    public func save(to path: String) throws {
        try FileSystem.writeAtomically(JSONText.render(jsonValue(), indent: nil) + "\n", to: path)
    }

    public static func load(path: String) throws -> GBDTModel {
        try load(bytes: FileSystem.readBytes(path), file: path)
    }

    public static func load(bytes: [UInt8], file: String) throws -> GBDTModel {
        let r = JSONReader(file: file)
        let root = try r.object(JSONReader.parse(bytes, file: file), "the model")
        if root["learner"] != nil {
            throw ModelFileError("\(file) is an XGBoost model; import it with `fsml model import-xgboost`")
        }
        guard try r.string(root["format"], "format") == formatName else {
            throw ModelFileError("\(file): not an fsml GBDT model (format is not \(formatName))")
        }
        let version = try r.int(root["format_version"], "format_version")
        guard (1...formatVersion).contains(version) else {
            throw ModelFileError(
                "\(file): model format version \(version) is not supported (this fsml reads \(formatVersion))")
        }
        let objectiveName = try r.string(root["objective"], "objective")
        guard let objective = ObjectiveKind(name: objectiveName) else {
            throw ModelFileError("\(file): objective '\(objectiveName)' is not supported")
        }
        let names = try r.array(root["feature_names"], "feature_names").enumerated().map {
            try r.string($0.element, "feature_names[\($0.offset)]")
        }
        var parameters: [String: String] = [:]
        for (k, v) in root["parameters"]?.object ?? [] { parameters[k] = v.string ?? "\(v)" }
        var trees: [Tree] = []
        for (i, value) in try r.array(root["trees"], "trees").enumerated() {
            let o = try r.object(value, "trees[\(i)]")
            let p = "trees[\(i)]"
            var t = Tree()
            t.splitFeature = try r.ints(o["split_feature"], "\(p).split_feature").enumerated().map {
                guard let f = Int32(exactly: $0.element) else {
                    throw ModelFileError("\(file): \(p).split_feature[\($0.offset)] is out of range")
                }
                return f
            }
            // Version 1 files from before storable thresholds wrote an infinite one as null.
            t.threshold = try r.array(o["threshold"], "\(p).threshold").enumerated().map {
                if case .null = $0.element { return Float.infinity }
                return Float(try r.double($0.element, "\(p).threshold[\($0.offset)]"))
            }
            t.defaultLeft = try r.ints(o["default_left"], "\(p).default_left").map { $0 != 0 }
            t.leftChild = try r.ints(o["left_child"], "\(p).left_child").map { Int32(clamping: $0) }
            t.rightChild = try r.ints(o["right_child"], "\(p).right_child").map { Int32(clamping: $0) }
            t.splitGain = try r.doubles(o["split_gain"], "\(p).split_gain")
            t.internalValue = try r.doubles(o["internal_value"], "\(p).internal_value")
            t.internalHessian = try r.doubles(o["internal_hessian"], "\(p).internal_hessian")
            t.internalCount = try r.ints(o["internal_count"], "\(p).internal_count")
            t.leafValue = try r.doubles(o["leaf_value"], "\(p).leaf_value")
            t.leafHessian = try r.doubles(o["leaf_hessian"], "\(p).leaf_hessian")
            t.leafCount = try r.ints(o["leaf_count"], "\(p).leaf_count")
            if let index = o["category_index"] {
                t.categoryIndex = try r.ints(index, "\(p).category_index").map { Int32(clamping: $0) }
                t.categorySets = try r.array(o["category_sets"], "\(p).category_sets").enumerated().map {
                    try r.ints($0.element, "\(p).category_sets[\($0.offset)]").map { UInt32(clamping: $0) }
                }
            }
            if let problem = t.validate() { throw ModelFileError("\(file): \(p): \(problem)") }
            if let bad = t.splitFeature.first(where: { $0 < 0 || Int($0) >= names.count }) {
                throw ModelFileError(
                    "\(file): \(p) splits on feature \(bad), but the model has \(names.count) features")
            }
            trees.append(t)
        }
        let classes = try root["num_class"].map { try r.int($0, "num_class") } ?? 1
        guard objective.isMulticlass ? classes >= 2 : classes == 1 else {
            throw ModelFileError("\(file): num_class \(classes) does not fit objective \(objective.rawValue)")
        }
        guard trees.count % classes == 0 else {
            throw ModelFileError("\(file): \(trees.count) trees are not whole rounds of \(classes) classes")
        }
        return GBDTModel(
            objective: objective, initScore: try r.double(root["init_score"], "init_score"), trees: trees,
            featureNames: names, parameters: parameters,
            bestIteration: try r.int(root["best_iteration"], "best_iteration"),
            trainedBy: root["trained_by"]?.string ?? "fsml",
            calibration: try root["calibration"].map { try Calibration.load($0, r) }, numClass: classes)
    }
}
