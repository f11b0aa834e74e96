import Foundation
import FsmlCore

/// XGBoost's JSON model format (`Booster.save_model("m.json")`, schema of XGBoost 2.x/3.x; facts in
/// docs/model-format.md): export so that `xgboost.Booster(model_file=...)` predicts what fsml
/// predicts, and import so that fsml serves trees XGBoost trained elsewhere.
///
/// XGBoost routes a row left when `x < split_condition`; fsml when `x <= threshold`. For Float32
/// values these agree when split_condition is the next Float32 above the threshold. XGBoost keeps
/// leaf values and base_score in Float32, so exported predictions differ from fsml's by Float32
/// rounding (about 1e-7 relative).
extension GBDTModel {
    public func xgboostJSON() -> JSONValue {
        var treeValues: [JSONValue] = []
        for (id, t) in trees.enumerated() {
            // XGBoost numbers nodes breadth first and steps to `left + !(x < condition)`: the right
            // child must directly follow the left one.
            let total = t.internalNodes + t.leaves
            var left = [Int](repeating: -1, count: total)
            var right = [Int](repeating: -1, count: total)
            var parents = [Int](repeating: 2_147_483_647, count: total)
            var feature = [Int](repeating: 0, count: total)
            var condition = [Double](repeating: 0, count: total)
            var defaultLeft = [Int](repeating: 0, count: total)
            var weights = [Double](repeating: 0, count: total)
            var gains = [Double](repeating: 0, count: total)
            var hessians = [Double](repeating: 0, count: total)
            var queue: [(child: Int32, slot: Int)] = [(t.internalNodes == 0 ? ~0 : 0, 0)]
            var head = 0
            var next = 1
            while head < queue.count {
                let (child, slot) = queue[head]
                head += 1
                if child < 0 {
                    let l = Int(~child)
                    condition[slot] = Double(Float(t.leafValue[l]))
                    weights[slot] = Double(Float(t.leafValue[l]))
                    hessians[slot] = t.leafHessian[l]
                    continue
                }
                let n = Int(child)
                left[slot] = next
                right[slot] = next + 1
                parents[next] = slot
                parents[next + 1] = slot
                feature[slot] = Int(t.splitFeature[n])
                // x <= t is x < t.nextUp; at the largest finite Float that is +infinity, which JSON cannot
                // hold: the largest finite Float stands for it (only an input equal to it differs).
                let above = Tree.storableThreshold(t.threshold[n]).nextUp
                condition[slot] = Double(above.isFinite ? above : .greatestFiniteMagnitude)
                defaultLeft[slot] = t.defaultLeft[n] ? 1 : 0
                weights[slot] = t.internalValue[n]
                gains[slot] = t.splitGain[n]
                hessians[slot] = t.internalHessian[n]
                queue.append((t.leftChild[n], next))
                queue.append((t.rightChild[n], next + 1))
                next += 2
            }
            func ints(_ xs: [Int]) -> JSONValue { .array(xs.map { .int($0) }) }
            func floats(_ xs: [Double]) -> JSONValue { .array(xs.map { .float(Double(Float($0))) }) }
            treeValues.append(
                .object([
                    ("id", .int(id)),
                    (
                        "tree_param",
                        .object([
                            ("num_deleted", .string("0")), ("num_feature", .string("\(featureNames.count)")),
                            ("num_nodes", .string("\(total)")), ("size_leaf_vector", .string("1")),
                        ])
                    ),
                    ("left_children", ints(left)), ("right_children", ints(right)), ("parents", ints(parents)),
                    ("split_indices", ints(feature)), ("split_conditions", floats(condition)),
                    ("default_left", ints(defaultLeft)), ("split_type", ints([Int](repeating: 0, count: total))),
                    ("base_weights", floats(weights)), ("loss_changes", floats(gains)),
                    ("sum_hessian", floats(hessians)),
                    ("categories", .array([])), ("categories_nodes", .array([])), ("categories_segments", .array([])),
                    ("categories_sizes", .array([])),
                ]))
        }
        let baseScore = Float(objective.transform(initScore))
        return .object([
            ("version", .array([.int(2), .int(1), .int(0)])),
            (
                "learner",
                .object([
                    (
                        "attributes",
                        .object([
                            ("fsml_version", .string(FsmlVersion.current)),
                            ("best_iteration", .string("\(bestIteration - 1)")),
                        ])
                    ),
                    ("feature_names", .array(featureNames.map { .string($0) })),
                    ("feature_types", .array(featureNames.map { _ in .string("float") })),
                    (
                        "gradient_booster",
                        .object([
                            ("name", .string("gbtree")),
                            (
                                "model",
                                .object([
                                    (
                                        "gbtree_model_param",
                                        .object([
                                            ("num_parallel_tree", .string("1")),
                                            ("num_trees", .string("\(trees.count)")),
                                        ])
                                    ),
                                    (
                                        "iteration_indptr",
                                        .array((0...trees.count / numClass).map { .int($0 * numClass) })
                                    ),
                                    ("tree_info", .array(trees.indices.map { .int($0 % numClass) })),
                                    ("trees", .array(treeValues)),
                                ])
                            ),
                        ])
                    ),
                    (
                        "learner_model_param",
                        .object([
                            ("base_score", .string("\(baseScore)")), ("boost_from_average", .string("1")),
                            ("num_class", .string(numClass > 1 ? "\(numClass)" : "0")),
                            ("num_feature", .string("\(featureNames.count)")),
                            ("num_target", .string("1")),
                        ])
                    ),
                    (
                        "objective",
                        .object([
                            ("name", .string(objective.rawValue)),
                            xgboostObjectiveParameters,
                        ])
                    ),
                ])
            ),
        ])
    }

    /// The objective's own parameter block, as XGBoost names it.
    var xgboostObjectiveParameters: (String, JSONValue) {
        switch objective {
        case .multiclass: ("softmax_multiclass_param", .object([("num_class", .string("\(numClass)"))]))
        case .binary: ("reg_loss_param", .object([("scale_pos_weight", .string("1"))]))
        case .poisson:
            (
                "poisson_regression_param",
                .object([("max_delta_step", .string(parameters["poisson_max_delta_step"] ?? "0.7"))])
            )
        default: ("reg_loss_param", .object([]))
        }
    }

    public func saveXGBoost(to path: String) throws {
        // XGBoost has no Huber loss (only pseudo-Huber) and no XE-NDCG, and its quantile models
        // carry their quantiles in a layout of their own.
        if objective == .huber || objective == .quantile || objective == .rankXENDCG {
            throw ModelFileError(
                "\(objective.rawValue) models do not export to XGBoost (binary:logistic, reg:squarederror, reg:absoluteerror, count:poisson, rank:ndcg and multi:softprob do)"
            )
        }
        if trees.contains(where: { $0.hasCategoricalSplits }) {
            throw ModelFileError(
                "models with categorical splits do not export to XGBoost yet; export-lightgbm keeps them")
        }
        try FileSystem.writeAtomically(JSONText.render(xgboostJSON(), indent: nil) + "\n", to: path)
    }

    /// Reads an XGBoost JSON model (gbtree, numerical splits; one output, or one per class).
    public static func loadXGBoost(path: String) throws -> GBDTModel {
        let file = path
        let r = JSONReader(file: file)
        let bytes = try FileSystem.readBytes(path)
        // XGBoost's default binary form (.ubj), or its JSON.
        let parsed: JSONNode
        if UBJSONReader.looksLikeObject(bytes) {
            do { parsed = try UBJSONReader.parse(bytes) } catch {
                throw ModelFileError("\(file): not readable as XGBoost's UBJSON (\(error))")
            }
        } else {
            parsed = try JSONReader.parse(bytes, file: file)
        }
        let root = try r.object(parsed, "the model")
        let learner = try r.object(root["learner"], "learner")
        let booster = try r.object(learner["gradient_booster"], "learner.gradient_booster")
        let boosterName = booster["name"]?.string ?? "gbtree"
        guard boosterName == "gbtree" else {
            throw ModelFileError("\(file): booster '\(boosterName)' is not supported (only gbtree)")
        }
        let model = try r.object(booster["model"], "learner.gradient_booster.model")
        let params = try r.object(learner["learner_model_param"], "learner.learner_model_param")
        let objectiveName = try r.string(
            try r.object(learner["objective"], "learner.objective")["name"], "learner.objective.name")
        guard let objective = ObjectiveKind(name: objectiveName) else {
            throw ModelFileError(
                "\(file): objective '\(objectiveName)' is not supported (binary:logistic, reg:squarederror, reg:absoluteerror, reg:quantileerror, count:poisson, rank:ndcg, multi:softprob)"
            )
        }
        let numClass = Int(params["num_class"]?.string ?? "0") ?? 0
        guard objective.isMulticlass ? numClass >= 2 : numClass <= 1 else {
            throw ModelFileError("\(file): num_class \(numClass) does not fit objective \(objectiveName)")
        }
        let classes = max(numClass, 1)
        if let npt = model["gbtree_model_param"]?["num_parallel_tree"]?.string, npt != "1" {
            throw ModelFileError("\(file): num_parallel_tree \(npt) (random forests) is not supported")
        }
        let baseText = try r.string(params["base_score"], "learner.learner_model_param.base_score")
        // One number, or (XGBoost 3's multi-output intercepts) a list with one a class.
        let bases = baseText.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",").map {
            Double($0.trimmingCharacters(in: .whitespaces))
        }
        guard !bases.isEmpty, bases.allSatisfy({ $0 != nil }), bases.count == 1 || bases.count == classes else {
            throw ModelFileError("\(file): base_score '\(baseText)' is not a number (or one a class)")
        }
        let base = bases[0]!
        let numFeature = Int(params["num_feature"]?.string ?? "") ?? 0
        var names = learner["feature_names"]?.array?.compactMap(\.string) ?? []
        if names.isEmpty { names = (0..<numFeature).map { "f\($0)" } }
        // base_score is an output (a probability, a value, an expected count): the margin is its inverse.
        if objective == .binary && !(base > 0 && base < 1) {
            throw ModelFileError("\(file): base_score \(base) is not a probability")
        }
        if objective == .poisson && !(base > 0) {
            throw ModelFileError("\(file): base_score \(base) is not a positive count")
        }
        let initScore = objective.margin(ofOutput: Double(Float(base)))
        var trees: [Tree] = []
        for (i, value) in try r.array(model["trees"], "trees").enumerated() {
            trees.append(
                try convertTree(
                    try r.object(value, "trees[\(i)]"), path: "trees[\(i)]", reader: r, features: names.count))
        }
        if classes > 1 {
            let info = try r.ints(model["tree_info"], "tree_info")
            guard trees.count % classes == 0, info == trees.indices.map({ $0 % classes }) else {
                throw ModelFileError(
                    "\(file): the trees are not whole rounds of \(classes) classes in class order (tree_info)")
            }
        }
        // Intercepts of their own a class ride in each class's first tree.
        if bases.count > 1 {
            for k in 0..<min(classes, trees.count) { trees[k] = trees[k].shifted(by: bases[k]! - base) }
        }
        return GBDTModel(
            objective: objective, initScore: initScore, trees: trees, featureNames: names,
            parameters: ["imported_from": "xgboost"], trainedBy: "xgboost", numClass: classes)
    }

    private static func convertTree(_ o: JSONNode, path p: String, reader r: JSONReader, features: Int) throws -> Tree {
        let left = try r.ints(o["left_children"], "\(p).left_children")
        let right = try r.ints(o["right_children"], "\(p).right_children")
        let feature = try r.ints(o["split_indices"], "\(p).split_indices")
        let condition = try r.doubles(o["split_conditions"], "\(p).split_conditions")
        let defaultLeft = try r.ints(o["default_left"], "\(p).default_left")
        let gains = (try? r.doubles(o["loss_changes"], "\(p).loss_changes")) ?? []
        let hessians = (try? r.doubles(o["sum_hessian"], "\(p).sum_hessian")) ?? []
        let weights = (try? r.doubles(o["base_weights"], "\(p).base_weights")) ?? []
        if let types = o["split_type"]?.array, types.contains(where: { $0.int == 1 }) {
            throw ModelFileError("\(r.file): \(p) has categorical splits, which fsml does not support")
        }
        let total = left.count
        guard total > 0, [right.count, feature.count, condition.count, defaultLeft.count].allSatisfy({ $0 == total })
        else {
            throw ModelFileError("\(r.file): \(p): node arrays differ in length")
        }
        // Number split nodes and leaves in the order a walk from the root meets them.
        var splitIndex = [Int](repeating: -1, count: total)
        var leafIndex = [Int](repeating: -1, count: total)
        var order: [Int] = []
        var queue = [0]
        var seen = Set<Int>()
        var splits = 0
        var leaves = 0
        while !queue.isEmpty {
            let n = queue.removeFirst()
            guard n >= 0 && n < total, seen.insert(n).inserted else {
                throw ModelFileError("\(r.file): \(p): node \(n) is out of range or reached twice")
            }
            if left[n] < 0 {
                leafIndex[n] = leaves
                leaves += 1
            } else {
                splitIndex[n] = splits
                splits += 1
                order.append(n)
                queue.append(left[n])
                queue.append(right[n])
            }
        }
        var t = Tree()
        func child(_ n: Int) -> Int32 { leafIndex[n] >= 0 ? ~Int32(leafIndex[n]) : Int32(splitIndex[n]) }
        func at(_ xs: [Double], _ n: Int) -> Double { n < xs.count ? xs[n] : 0 }
        for n in order {
            guard feature[n] >= 0 && feature[n] < max(features, 1) else {
                throw ModelFileError(
                    "\(r.file): \(p) splits on feature \(feature[n]), but the model has \(features) features")
            }
            t.splitFeature.append(Int32(feature[n]))
            t.threshold.append(Float(condition[n]).nextDown)
            t.defaultLeft.append(defaultLeft[n] != 0)
            t.leftChild.append(child(left[n]))
            t.rightChild.append(child(right[n]))
            t.splitGain.append(at(gains, n))
            t.internalValue.append(at(weights, n))
            t.internalHessian.append(at(hessians, n))
            t.internalCount.append(0)
        }
        var leafValues = [Double](repeating: 0, count: leaves)
        var leafHessians = [Double](repeating: 0, count: leaves)
        for n in 0..<total where leafIndex[n] >= 0 {
            leafValues[leafIndex[n]] = Double(Float(condition[n]))
            leafHessians[leafIndex[n]] = at(hessians, n)
        }
        t.leafValue = leafValues
        t.leafHessian = leafHessians
        t.leafCount = [Int](repeating: 0, count: leaves)
        if let problem = t.validate() { throw ModelFileError("\(r.file): \(p): \(problem)") }
        return t
    }
}
