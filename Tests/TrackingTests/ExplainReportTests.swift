import FsmlCore
import GBDT
import Testing

@testable import Tracking

/// The explain report's charts carry the series they claim: a bar per feature by mean |SHAP|, a
/// dependence plot per top feature with a point per row that has a value, and a summary on top.
@Suite struct ExplainReportTests {
    @Test func barsDependencePlotsAndSummary() {
        // Three rows, three features; "c" never contributes; "b" is missing in one row.
        let data = DenseMatrix(
            rows: 3, columns: 3, values: [1, 5, 0, 2, .nan, 0, 3, 7, 0], featureNames: ["a", "b", "c"])
        let shap = SHAPValues(
            rows: 3, featureNames: ["a", "b", "c"], values: [0.5, -2, 0, 0.1, -1, 0.2, 0, 0.1, 0.1, 3, 0, 0.1])
        var report = ExplainReport(title: "t", subtitle: "s", shap: shap, data: data)
        report.dependenceFeatures = 2
        #expect(!report.html().contains("Interactions"))
        report.interactions = [(0, 1, 0.75), (1, 2, 0.25)]
        report.interactionRows = 3
        let html = report.html()
        let pairs = html.components(separatedBy: "Mean |SHAP interaction| (margin units)")[1]
        #expect(html.contains("over 3 rows") && pairs.contains(">a × b<") && pairs.contains(">b × c<"))
        #expect(html.contains("3 rows explained; the expected margin (bias) is 0.1000."))
        #expect(html.contains("1 of 3 features never change a prediction."))
        // Bars largest first: b (mean |SHAP| 1.7333), a (0.5333), c (0).
        let bars = html.components(separatedBy: "Mean |SHAP| (margin units)")[1].components(separatedBy: "</svg>")[0]
        let b = bars.range(of: ">b<")!.lowerBound
        let a = bars.range(of: ">a<")!.lowerBound
        #expect(b < a && bars.contains(">c<"))
        // Dependence plots of b (2 points: one row is missing) and a (3 points).
        let plots = html.components(separatedBy: "Dependence of the top features")[1].components(separatedBy: "</svg>")
        #expect(plots[0].contains("b (1 missing not shown)") && plots[0].components(separatedBy: "<circle").count == 3)
        #expect(plots[1].contains("SHAP value of a") && plots[1].components(separatedBy: "<circle").count == 4)
    }
}
