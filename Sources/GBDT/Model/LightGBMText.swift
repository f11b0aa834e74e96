import Foundation
import FsmlCore

/// LightGBM's text model format, both ways: `lightgbm.Booster(model_file=...)` loads what
/// `lightgbmText()` writes and predicts what fsml predicts (for Float32 inputs, which both compare
/// against the same Float32 thresholds), and `loadLightGBM` reads LightGBM's models of the
/// objectives fsml has.
///
/// Splits are written with LightGBM's NaN missing type (missing values take the default
/// direction, as in fsml); categorical splits as LightGBM's bitsets. LightGBM has no separate starting score: it is folded into the first
/// tree's outputs, and unfolded on import as zero.
extension GBDTModel {
    /// LightGBM's name of each objective, and the extra text of its objective line.
    static let lightGBMObjectives: [(ObjectiveKind, String)] = [
        (.binary, "binary sigmoid:1"), (.regression, "regression"), (.regressionL1, "regression_l1"),
        (.huber, "huber"), (.quantile, "quantile"), (.poisson, "poisson"), (.lambdarank, "lambdarank"),
        (.rankXENDCG, "rank_xendcg"), (.multiclass, "multiclass"),
    ]

    public func lightgbmText() -> String {
        func numbers(_ xs: [Double]) -> String { xs.map { "\($0)" }.joined(separator: " ") }
        func ints<T: BinaryInteger>(_ xs: [T]) -> String { xs.map { "\($0)" }.joined(separator: " ") }
        var blocks: [String] = []
        for (k, t) in trees.enumerated() {
            // The starting score rides in the first tree (of each class), as LightGBM's
            // boost_from_average puts it.
            let shift = k < numClass ? initScore : 0
            var b = "Tree=\(k)\n"
            b += "num_leaves=\(t.leaves)\nnum_cat=\(t.categorySets.count)\n"
            let categorical = (0..<t.internalNodes).map { t.categories($0) != nil }
            if t.internalNodes > 0 {
                b += "split_feature=\(ints(t.splitFeature))\n"
                b += "split_gain=\(numbers(t.splitGain))\n"
                // A categorical split's threshold is the number of its set.
                let thresholds = (0..<t.internalNodes).map {
                    categorical[$0] ? Double(t.categoryIndex[$0]) : Double(Tree.storableThreshold(t.threshold[$0]))
                }
                b += "threshold=\(numbers(thresholds))\n"
                // Bit 0: categorical; bit 1: missing values go left; bits 2–3 = 2: NaN is the missing
                // value (which a categorical split sends right).
                b +=
                    "decision_type=\(ints(t.defaultLeft.indices.map { categorical[$0] ? 9 : 8 + (t.defaultLeft[$0] ? 2 : 0) }))\n"
                b += "left_child=\(ints(t.leftChild))\nright_child=\(ints(t.rightChild))\n"
            }
            b += "leaf_value=\(numbers(t.leafValue.map { $0 + shift }))\n"
            b += "leaf_weight=\(numbers(t.leafHessian))\nleaf_count=\(ints(t.leafCount))\n"
            if t.internalNodes > 0 {
                b += "internal_value=\(numbers(t.internalValue.map { $0 + shift }))\n"
                b += "internal_weight=\(numbers(t.internalHessian))\ninternal_count=\(ints(t.internalCount))\n"
            }
            if t.hasCategoricalSplits {
                var boundaries = [0]
                for set in t.categorySets { boundaries.append(boundaries.last! + set.count) }
                b += "cat_boundaries=\(ints(boundaries))\ncat_threshold=\(ints(t.categorySets.flatMap { $0 }))\n"
            }
            b += "is_linear=0\nshrinkage=1\n\n\n"
            blocks.append(b)
        }
        var objectiveLine = Self.lightGBMObjectives.first { $0.0 == objective }!.1
        if objective.isMulticlass { objectiveLine += " num_class:\(numClass)" }
        var s = "tree\nversion=v4\nnum_class=\(numClass)\nnum_tree_per_iteration=\(numClass)\nlabel_index=0\n"
        s += "max_feature_idx=\(featureNames.count - 1)\nobjective=\(objectiveLine)\n"
        // LightGBM's names are single tokens.
        s += "feature_names=\(featureNames.map { Self.lightGBMName($0) }.joined(separator: " "))\n"
        s += "feature_infos=\(featureNames.map { _ in "none" }.joined(separator: " "))\n"
        s += "tree_sizes=\(blocks.map { "\($0.utf8.count)" }.joined(separator: " "))\n\n"
        s += blocks.joined() + "end of trees\n\nfeature_importances:\n\nparameters:\n"
        // Under LightGBM's own names; the objective is on its line above.
        for (k, v) in parameters.sorted(by: { $0.key < $1.key }) where k != "objective" {
            s += "[\(k == "early_stopping_rounds" ? "early_stopping_round" : k): \(lightGBMParameter(k, v))]\n"
        }
        return s + "end of parameters\n\npandas_categorical:null\n"
    }

    /// A parameter's value as LightGBM reads it back (its Python package parses them as JSON):
    /// categorical features by column index, not by name.
    func lightGBMParameter(_ key: String, _ value: String) -> String {
        guard key == "categorical_feature", value.hasPrefix("name:") else { return value }
        return value.dropFirst(5).split(separator: ",").compactMap {
            featureNames.firstIndex(of: $0.trimmingCharacters(in: .whitespaces)).map(String.init)
        }.joined(separator: ",")
    }

    static func lightGBMName(_ name: String) -> String {
        String(name.map { $0.isWhitespace || $0 == ":" || $0 == "=" ? "_" : $0 })
    }

    /// A tree's categorical splits: node n's threshold is the number of its set, whose 32-bit words
    /// are cat_threshold[cat_boundaries[i] ..< cat_boundaries[i + 1]].
    static func readCategorical(
        _ t: inout Tree, decisions: [Int], boundaries b: [Int], words: [Int], fail: (String) -> ModelFileError
    ) throws {
        guard b.first == 0, zip(b, b.dropFirst()).allSatisfy({ $0 <= $1 }), b.last == words.count else {
            throw fail("cat_boundaries do not cut cat_threshold into sets")
        }
        let sets = (0..<max(b.count - 1, 0)).map { i in words[b[i]..<b[i + 1]].map { UInt32($0) } }
        t.categoryIndex = try decisions.enumerated().map { n, d in
            guard d & 1 != 0 else { return -1 }
            let x = t.threshold[n]
            guard x >= 0, x < Float(sets.count), x == x.rounded() else {
                throw fail("node \(n) names category set \(x)")
            }
            return Int32(x)
        }
        // Each node has its own set; LightGBM writes them in node order.
        let order = t.categoryIndex.filter { $0 >= 0 }
        t.categorySets = order.map { sets[Int($0)] }
        var next: Int32 = 0
        t.categoryIndex = t.categoryIndex.map { i in
            guard i >= 0 else { return -1 }
            defer { next += 1 }
            return next
        }
        for n in t.categoryIndex.indices where t.categoryIndex[n] >= 0 { t.threshold[n] = 0 }
    }

    public func saveLightGBM(to path: String) throws {
        try FileSystem.writeAtomically(lightgbmText(), to: path)
    }

    /// Reads a LightGBM text model of the objectives fsml has (no linear trees, as fsml's trees
    /// have none).
    public static func loadLightGBM(path: String) throws -> GBDTModel {
        let text = try FileSystem.readText(path)
        func fail(_ why: String) -> ModelFileError { ModelFileError("\(path): \(why)") }
        var header: [String: String] = [:]
        var treeFields: [[String: String]] = []
        var parameters: [String: String] = [:]
        var section = "header"
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.hasPrefix("Tree=") {
                section = "tree"
                treeFields.append([:])
                continue
            }
            if line == "end of trees" { section = "after" }
            if line == "parameters:" { section = "parameters" }
            if line == "end of parameters" { section = "end" }
            if section == "parameters", line.hasPrefix("["), line.hasSuffix("]"), let colon = line.firstIndex(of: ":") {
                parameters[String(line[line.index(after: line.startIndex)..<colon])] = String(
                    line[line.index(after: colon)..<line.index(before: line.endIndex)]
                ).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let (key, value) = (String(line[..<eq]), String(line[line.index(after: eq)...]))
            if section == "header" {
                header[key] = value
            } else if section == "tree" {
                treeFields[treeFields.count - 1][key] = value
            }
        }
        guard text.hasPrefix("tree\n") || text.hasPrefix("tree\r\n"), let objectiveLine = header["objective"] else {
            throw fail("not a LightGBM text model (no 'tree' header or objective)")
        }
        let objectiveName = String(objectiveLine.split(separator: " ").first ?? "")
        guard let objective = lightGBMObjectives.first(where: { $0.1.hasPrefix(objectiveName) })?.0 else {
            throw fail(
                "objective '\(objectiveName)' is not supported (\(lightGBMObjectives.map { String($0.1.split(separator: " ")[0]) }.joined(separator: ", ")))"
            )
        }
        let classes = Int(header["num_class"] ?? "1") ?? 0
        guard objective.isMulticlass ? classes >= 2 : classes == 1,
            Int(header["num_tree_per_iteration"] ?? "1") == classes
        else {
            throw fail(
                "num_class=\(header["num_class"] ?? "1") and num_tree_per_iteration=\(header["num_tree_per_iteration"] ?? "1") do not fit objective \(objectiveName)"
            )
        }
        if objectiveLine.contains("sigmoid:"), let slope = objectiveLine.split(separator: ":").last, Double(slope) != 1
        {
            throw fail("a sigmoid of slope \(slope) is not supported (1 is)")
        }
        let names = (header["feature_names"] ?? "").split(separator: " ").map(String.init)
        var trees: [Tree] = []
        for (k, f) in treeFields.enumerated() {
            func list(_ key: String) throws -> [Double] {
                guard let v = f[key] else { return [] }
                return try v.split(separator: " ").map {
                    guard let x = Double($0) else { throw fail("Tree=\(k): \(key) has '\($0)'") }
                    return x
                }
            }
            /// Whole numbers that fit an Int32 (node numbers, counts, flags, bitset words as unsigned).
            func integers(_ key: String, unsigned: Bool = false) throws -> [Int] {
                try list(key).map {
                    let range: ClosedRange<Double> = unsigned ? 0...4_294_967_295 : -2_147_483_648...2_147_483_647
                    guard $0 == $0.rounded(), range.contains($0) else {
                        throw fail("Tree=\(k): \(key) has \($0), not a whole number in range")
                    }
                    return Int($0)
                }
            }
            if f["is_linear"] == "1" { throw fail("Tree=\(k): linear trees are not supported") }
            var t = Tree()
            t.leafValue = try list("leaf_value")
            t.leafHessian = try list("leaf_weight")
            t.leafCount = try integers("leaf_count", unsigned: true)
            t.splitFeature = try integers("split_feature").map { Int32($0) }
            t.splitGain = try list("split_gain")
            // LightGBM compares a Float32 input, widened, with a Double threshold: the same as
            // comparing the input with the largest Float32 at or below the threshold.
            t.threshold = try list("threshold").map { d in
                let f = Float(d)
                return Double(f) > d ? f.nextDown : f
            }
            t.leftChild = try integers("left_child").map { Int32($0) }
            t.rightChild = try integers("right_child").map { Int32($0) }
            t.internalValue = try list("internal_value")
            t.internalHessian = try list("internal_weight")
            t.internalCount = try integers("internal_count", unsigned: true)
            let decisions = try integers("decision_type", unsigned: true)
            guard decisions.count == t.threshold.count else {
                throw fail("Tree=\(k): \(decisions.count) decision types for \(t.threshold.count) thresholds")
            }
            if decisions.contains(where: { $0 & 1 != 0 }) {
                try readCategorical(
                    &t, decisions: decisions, boundaries: integers("cat_boundaries", unsigned: true),
                    words: integers("cat_threshold", unsigned: true)
                ) { fail("Tree=\(k): \($0)") }
            }
            t.defaultLeft = try decisions.enumerated().map { n, d in
                if d & 1 != 0 { return false }  // categorical: missing values go right
                let defaultLeft = d & 2 != 0
                switch (d >> 2) & 3 {
                case 2: return defaultLeft  // NaN missing: as fsml
                // No missing type: LightGBM reads NaN as 0, which goes where 0 goes.
                case 0: return 0 <= t.threshold[n]
                default:
                    // Zero as missing: 0 goes the default way, which fsml matches only when 0 would go there anyway.
                    guard defaultLeft == (0 <= t.threshold[n]) else {
                        throw fail("Tree=\(k): a split that sends 0 as missing against its threshold is not supported")
                    }
                    return defaultLeft
                }
            }
            if t.leafHessian.isEmpty { t.leafHessian = t.leafValue.map { _ in 0 } }
            if t.leafCount.isEmpty { t.leafCount = t.leafValue.map { _ in 0 } }
            if t.internalValue.count != t.splitFeature.count { t.internalValue = t.splitFeature.map { _ in 0 } }
            if t.internalHessian.count != t.splitFeature.count { t.internalHessian = t.splitFeature.map { _ in 0 } }
            if t.internalCount.count != t.splitFeature.count { t.internalCount = t.splitFeature.map { _ in 0 } }
            if let problem = t.validate() { throw fail("Tree=\(k): \(problem)") }
            trees.append(t)
        }
        guard !trees.isEmpty else { throw fail("no trees") }
        guard trees.count % classes == 0 else {
            throw fail("\(trees.count) trees are not whole rounds of \(classes) classes")
        }
        return GBDTModel(
            objective: objective, initScore: 0, trees: trees,
            featureNames: names.isEmpty ? (0...(Int(header["max_feature_idx"] ?? "0") ?? 0)).map { "f\($0)" } : names,
            parameters: parameters.merging(["imported_from": "lightgbm"]) { $1 }, trainedBy: "lightgbm",
            numClass: classes)
    }
}
