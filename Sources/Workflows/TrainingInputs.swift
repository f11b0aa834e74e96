import FsmlCore
import GBDT
import PointInTime

/// What a tracked run trains and is judged on, with what it logs about the data.
struct TrainingInputs {
    var train: LabeledData
    var valid: LabeledData?
    var validSegments: [(String, [String?])] = []
    var datasetPath: String
    var manifestPath: String?
    var extraParams: [(String, String)] = []
    /// The held-out slice a calibration is fitted on, between training and validation.
    var calibration: LabeledData?
    var featureHashes: [String: String] = [:]
    /// Features fsml.yaml defines as categories.
    var categoricalFeatures: [String] = []

    init(train: LabeledData, valid: LabeledData?, datasetPath: String, manifestPath: String? = nil) {
        self.train = train
        self.valid = valid
        self.datasetPath = datasetPath
        self.manifestPath = manifestPath
    }

    /// The store's examples split by time: validation from `validStart` (or the last `validDays`),
    /// a calibration slice before it when the pipeline calibrates, queries kept together for ranking.
    static func split(
        _ examples: StoreExamples, request: StoreExamples.Request, pipeline: TrainingPipeline
    ) throws -> TrainingInputs {
        let table = examples.table
        var segmentColumns = examples.segmentColumns
        let split =
            pipeline.validStart.map { TimeSplit.at(table.times, start: $0) }
            ?? TimeSplit.lastDays(table.times, validDays: pipeline.validDays)
        guard !split.train.isEmpty, !split.valid.isEmpty else {
            throw WorkflowError(
                "the time split at \(Timestamp.format(split.start)) leaves \(split.train.count) training and \(split.valid.count) validation rows; give --valid-days or --valid-start"
            )
        }
        StandardError.line(
            "split by time at \(Timestamp.format(split.start)): \(Progress.count(split.train.count)) training rows before, \(Progress.count(split.valid.count)) validation rows from then on"
        )
        var trainRows = split.train
        var calibrationRows: [Int] = []
        if pipeline.calibrate != nil {
            let cut = TimeSplit.lastDays(trainRows.map { table.times[$0] }, validDays: pipeline.calibrationDays)
            calibrationRows = cut.valid.map { trainRows[$0] }
            trainRows = cut.train.map { trainRows[$0] }
            guard !trainRows.isEmpty, !calibrationRows.isEmpty else {
                throw WorkflowError(
                    "the calibration slice at \(Timestamp.format(cut.start)) leaves \(trainRows.count) training and \(calibrationRows.count) calibration rows; give --calibration-days"
                )
            }
            StandardError.line(
                "calibration slice from \(Timestamp.format(cut.start)): \(Progress.count(calibrationRows.count)) rows held out of training"
            )
        }
        // Ranking: the rows of each query together (in time order within it), the queries' sizes kept.
        var trainSizes: [Int]?
        var validSizes: [Int]?
        var validRows = split.valid
        if let q = request.queryColumn, let ids = table.segments[q] {
            (trainRows, trainSizes) = QueryOrder.of(trainRows) { ids[$0] }
            (validRows, validSizes) = QueryOrder.of(validRows) { ids[$0] }
        } else if pipeline.parameters.objective.isRanking {
            throw WorkflowError(
                "\(pipeline.parameters.objective.rawValue) ranks examples within queries: give --group-column, a dataset column such as an entity key"
            )
        }
        let train = table.subset(trainRows)
        let valid = table.subset(validRows)
        if pipeline.segments.isEmpty { segmentColumns = DatasetSegments.reported(segmentColumns, in: valid) }
        var labeledTrain = train.labeledData
        var labeledValid = valid.labeledData
        labeledTrain.groups = trainSizes
        labeledValid.groups = validSizes
        var inputs = TrainingInputs(
            train: labeledTrain, valid: labeledValid, datasetPath: examples.datasetPath,
            manifestPath: examples.manifestPath)
        inputs.validSegments = segmentColumns.compactMap { c in valid.segments[c].map { (c, $0) } }
        if !calibrationRows.isEmpty { inputs.calibration = table.subset(calibrationRows).labeledData }
        inputs.extraParams =
            [
                ("valid_start", Timestamp.format(split.start)), ("train_rows", String(trainRows.count)),
                ("valid_rows", String(split.valid.count)), ("features", String(table.featureNames.count)),
            ] + (request.views.map { [("views", $0)] } ?? [])
            + (pipeline.calibrate.map {
                [("calibration", $0.rawValue), ("calibration_rows", String(calibrationRows.count))]
            } ?? [])
        inputs.featureHashes = examples.featureHashes
        inputs.categoricalFeatures = table.featureNames.filter { name in
            examples.registry.featureIndex(name).map(examples.registry.isCategorical) ?? false
        }
        return inputs
    }
}
