import Foundation
import FsmlCore

/// An ONNX model of the trees (ai.onnx.ml TreeEnsembleRegressor, then the objective's link as a
/// standard operator: Sigmoid for binary, Exp for Poisson, Softmax over the classes of a
/// multiclass model), which onnxruntime runs. One input, `input` (float, rows × features); one
/// output, `prediction` (float, rows × 1, or rows × classes). Feature names
/// are in the model's metadata (`feature_names`, comma-separated) and in the input's doc string.
///
/// ONNX keeps thresholds and leaf values as Float32, so predictions differ from fsml's by Float32
/// rounding of the leaf values and of the output (about 1e-7).
extension GBDTModel {
    public func onnx() -> [UInt8] {
        let link: String? =
            switch objective {
            case .binary: "Sigmoid"
            case .poisson: "Exp"
            case .multiclass: "Softmax"
            case .regression, .regressionL1, .huber, .quantile, .lambdarank, .rankXENDCG: nil
            }
        var nodes = ONNXTreeNodes()
        for (k, t) in trees.enumerated() { nodes.add(t, tree: k, target: k % numClass) }
        var model = ProtobufWriter()
        // ModelProto: ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8,
        // metadata_props 14.
        model.int(1, 8)
        model.string(2, "fsml")
        model.string(3, FsmlVersion.current)
        model.message(7) { graph in
            // GraphProto: node 1, name 2, input 11, output 12.
            graph.message(1) { node in
                // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
                node.string(1, "input")
                node.string(2, link == nil ? "prediction" : "margin")
                node.string(3, "trees")
                node.string(4, "TreeEnsembleRegressor")
                node.string(7, "ai.onnx.ml")
                for attribute in nodes.attributes(base: initScore, targets: numClass) { node.message(5, attribute) }
            }
            if let link {
                graph.message(1) { node in
                    node.string(1, "margin")
                    node.string(2, "prediction")
                    node.string(3, "link")
                    node.string(4, link)
                }
            }
            graph.string(2, "fsml-gbdt")
            graph.message(11) {
                Self.onnxTensor(&$0, name: "input", columns: Int64(featureNames.count), doc: featureNames)
            }
            graph.message(12) {
                Self.onnxTensor(&$0, name: "prediction", columns: Int64(numClass), doc: [objective.rawValue])
            }
        }
        for (domain, version) in [("", Int64(13)), ("ai.onnx.ml", Int64(1))] {
            model.message(8) { opset in
                opset.string(1, domain)
                opset.int(2, version)
            }
        }
        model.message(14) { entry in
            entry.string(1, "feature_names")
            entry.string(2, featureNames.joined(separator: ","))
        }
        model.message(14) { entry in
            entry.string(1, "objective")
            entry.string(2, objective.rawValue)
        }
        return model.bytes
    }

    public func saveONNX(to path: String) throws {
        // TreeEnsembleRegressor of ai.onnx.ml 1 compares with thresholds only.
        if trees.contains(where: { $0.hasCategoricalSplits }) {
            throw ModelFileError("models with categorical splits do not export to ONNX yet; export-lightgbm keeps them")
        }
        try FileSystem.writeAtomically(onnx(), to: path)
    }

    /// A ValueInfoProto of a float tensor of shape (rows, columns).
    static func onnxTensor(_ v: inout ProtobufWriter, name: String, columns: Int64, doc: [String]) {
        v.string(1, name)
        v.message(2) { type in
            type.message(1) { tensor in
                tensor.int(1, 1)  // FLOAT
                tensor.message(2) { shape in
                    shape.message(1) { $0.string(2, "rows") }
                    shape.message(1) { $0.int(1, columns) }
                }
            }
        }
        v.string(3, doc.joined(separator: ","))
    }
}

/// The node and target lists of TreeEnsembleRegressor. In each tree, internal node n is node n
/// and leaf l is node internalNodes + l; "true" is the left branch (x ≤ threshold).
struct ONNXTreeNodes {
    var treeIDs: [Int64] = []
    var nodeIDs: [Int64] = []
    var featureIDs: [Int64] = []
    var values: [Float] = []
    var modes: [String] = []
    var trueIDs: [Int64] = []
    var falseIDs: [Int64] = []
    var missingTrue: [Int64] = []
    var targetTrees: [Int64] = []
    var targetNodes: [Int64] = []
    var targetIDs: [Int64] = []
    var targetWeights: [Float] = []

    /// `target`: the output the tree adds to (its class).
    mutating func add(_ t: Tree, tree k: Int, target: Int) {
        func id(_ child: Int32) -> Int64 { child < 0 ? Int64(t.internalNodes) + Int64(~child) : Int64(child) }
        for n in 0..<t.internalNodes {
            node(
                tree: k, id: Int64(n), feature: Int64(t.splitFeature[n]), value: Tree.storableThreshold(t.threshold[n]),
                mode: "BRANCH_LEQ", true: id(t.leftChild[n]), false: id(t.rightChild[n]), missingTrue: t.defaultLeft[n])
        }
        for l in 0..<t.leaves {
            let leaf = Int64(t.internalNodes + l)
            node(tree: k, id: leaf, feature: 0, value: 0, mode: "LEAF", true: 0, false: 0, missingTrue: false)
            targetTrees.append(Int64(k))
            targetNodes.append(leaf)
            targetIDs.append(Int64(target))
            targetWeights.append(Float(t.leafValue[l]))
        }
    }

    mutating func node(
        tree: Int, id: Int64, feature: Int64, value: Float, mode: String, true t: Int64, false f: Int64,
        missingTrue: Bool
    ) {
        treeIDs.append(Int64(tree))
        nodeIDs.append(id)
        featureIDs.append(feature)
        values.append(value)
        modes.append(mode)
        trueIDs.append(t)
        falseIDs.append(f)
        self.missingTrue.append(missingTrue ? 1 : 0)
    }

    /// AttributeProtos: name 1, f 2, i 3, s 4, floats 7, ints 8, strings 9, type 20 (FLOAT 1, INT 2,
    /// STRING 3, FLOATS 6, INTS 7, STRINGS 8).
    func attributes(base: Double, targets: Int) -> [(inout ProtobufWriter) -> Void] {
        func ints(_ name: String, _ v: [Int64]) -> (inout ProtobufWriter) -> Void {
            { a in
                a.string(1, name)
                a.ints(8, v)
                a.int(20, 7)
            }
        }
        func floats(_ name: String, _ v: [Float]) -> (inout ProtobufWriter) -> Void {
            { a in
                a.string(1, name)
                a.floats(7, v)
                a.int(20, 6)
            }
        }
        let modes = self.modes
        return [
            { a in
                a.string(1, "n_targets")
                a.int(3, Int64(targets))
                a.int(20, 2)
            },
            { a in
                a.string(1, "aggregate_function")
                a.string(4, "SUM")
                a.int(20, 3)
            },
            { a in
                a.string(1, "post_transform")
                a.string(4, "NONE")
                a.int(20, 3)
            },
            { a in
                a.string(1, "nodes_modes")
                for m in modes { a.string(9, m) }
                a.int(20, 8)
            },
            floats("base_values", [Float](repeating: Float(base), count: targets)),
            ints("nodes_treeids", treeIDs), ints("nodes_nodeids", nodeIDs), ints("nodes_featureids", featureIDs),
            floats("nodes_values", values), ints("nodes_truenodeids", trueIDs), ints("nodes_falsenodeids", falseIDs),
            ints("nodes_missing_value_tracks_true", missingTrue), ints("target_treeids", targetTrees),
            ints("target_nodeids", targetNodes), ints("target_ids", targetIDs),
            floats("target_weights", targetWeights),
        ]
    }
}
