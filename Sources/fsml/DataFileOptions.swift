import ArgumentParser
import GBDT
import Workflows

/// The data-file options `train` and `predict` share.
struct DataFileOptions: ParsableArguments {
    @Option(help: "The data file (CSV, TSV or LibSVM; .gz is read too).") var data: String?
    @Option(help: "csv, tsv or libsvm (default: from the file name).") var dataFormat: DataFormat?
    @Option(help: "The label column: an index from 0, a header name, or none.") var labelColumn: String = "0"
    @Option(
        help: "A column of sample weights (index or header name); without it, FILE.weight is read when it exists.")
    var weightColumn: String?
    @Option(
        help: """
            A column of query ids (index or header name) for ranking: each run of rows with one id is a query; \
            without it, FILE.query is read when it exists.
            """)
    var groupColumn: String?
    @Option(help: "Whether the first line is a header: auto, yes or no.") var header: DelimitedOptions.Header = .auto

    func format(of path: String) -> DataFormat { dataFormat ?? DataFormat.guess(path: path) }

    /// Validation data for `train`: a LibSVM file's columns end at its own highest index, so it is
    /// widened to the training data's (other formats must match as they are).
    func loadValidation(_ path: String, like train: LabeledData) throws -> LabeledData {
        let data = try load(path)
        return format(of: path) == .libsvm ? data.widened(toColumns: train.features.columns) : data
    }

    func load(_ path: String) throws -> LabeledData {
        try DataLoader.load(
            path: path, format: dataFormat ?? DataFormat.guess(path: path), labelColumn: labelColumn, header: header,
            weightColumn: weightColumn, groupColumn: groupColumn)
    }
}

extension DataFormat: ExpressibleByArgument {}
extension DelimitedOptions.Header: ExpressibleByArgument {}
extension Calibration.Method: ExpressibleByArgument {}
extension ModelKind: ExpressibleByArgument {}
