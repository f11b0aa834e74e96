import Foundation
import FsmlCore
import GBDT

/// The `model/` directory MLflow expects of a run's model: an MLmodel file with the LightGBM
/// flavor and the python_function flavor that loads it, the model in LightGBM's text format, and
/// the environment files, so that `mlflow.register_model("runs:/RUN/model", ...)`,
/// `mlflow.pyfunc.load_model` and `mlflow models serve` work on fsml's runs. MLflow's LightGBM
/// flavor scores the trees as fsml does (the LightGBM export predicts exactly alike); a
/// calibration, which LightGBM cannot hold, is left out, and the MLmodel says so.
public enum MLflowModelFlavor {
    public static let directory = "model"
    /// The LightGBM and MLflow versions the files are written for (those `make test` checks with).
    static let lightgbmVersion = "4.7.0"
    static let mlflowVersion = "3.17.2"
    static let pythonVersion = "3.11"

    /// Writes `model/` under the run's artifacts.
    public static func write(_ model: GBDTModel, runID: String, artifacts: String) throws {
        let dir = "\(artifacts)/\(directory)"
        try FileSystem.createDirectory(dir)
        let text = model.lightgbmText()
        try FileSystem.writeAtomically(text, to: "\(dir)/model.lgb")
        try FileSystem.writeAtomically(mlmodel(model, runID: runID, size: text.utf8.count), to: "\(dir)/MLmodel")
        let requirements = ["mlflow==\(mlflowVersion)", "lightgbm==\(lightgbmVersion)"]
        try FileSystem.writeAtomically(requirements.joined(separator: "\n") + "\n", to: "\(dir)/requirements.txt")
        try FileSystem.writeAtomically(
            """
            python: '\(pythonVersion)'
            build_dependencies:
            - pip
            dependencies:
            - -r requirements.txt

            """, to: "\(dir)/python_env.yaml")
        try FileSystem.writeAtomically(
            """
            channels:
            - conda-forge
            dependencies:
            - python=\(pythonVersion)
            - pip
            - pip:
            \(requirements.map { "  - \($0)" }.joined(separator: "\n"))
            name: mlflow-env

            """, to: "\(dir)/conda.yaml")
    }

    static func mlmodel(_ model: GBDTModel, runID: String, size: Int) -> String {
        let created = Timestamp.format(wallClockMicros()).replacingOccurrences(of: "T", with: " ").replacingOccurrences(
            of: "Z", with: "")
        // The signature: a column of doubles per feature, in the model's order.
        let inputs = model.featureNames.map {
            "{\"type\": \"double\", \"name\": \(JSONText.quote($0)), \"required\": true}"
        }
        var s = "artifact_path: \(directory)\n"
        s += "flavors:\n"
        s += "  lightgbm:\n    code: null\n    data: model.lgb\n    lgb_version: \(lightgbmVersion)\n"
        s += "    model_class: lightgbm.basic.Booster\n"
        s += "  python_function:\n    data: model.lgb\n    env:\n      conda: conda.yaml\n"
        s += "      virtualenv: python_env.yaml\n    loader_module: mlflow.lightgbm\n"
        s += "    python_version: '\(pythonVersion)'\n"
        s += "metadata:\n  fsml_objective: \(model.objective.rawValue)\n"
        if let c = model.calibration {
            s += "  fsml_note: 'the \(c.method.rawValue) calibration of model.json is not in model.lgb'\n"
        }
        s += "mlflow_version: \(mlflowVersion)\n"
        s += "model_size_bytes: \(size)\n"
        s += "model_uuid: \(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())\n"
        s += "run_id: \(runID)\n"
        s += "signature:\n  inputs: '[\(inputs.joined(separator: ", ").replacingOccurrences(of: "'", with: "''"))]'\n"
        s += "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1]}}]'\n"
        s += "  params: null\n"
        s += "utc_time_created: '\(created)'\n"
        return s
    }
}
