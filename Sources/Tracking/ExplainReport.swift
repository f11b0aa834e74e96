import FsmlCore
import GBDT

/// The report of `fsml explain --report`: one self-contained HTML file (inline SVG) with the global
/// importance by mean |SHAP| and a dependence plot (value against contribution) for the top
/// features.
public struct ExplainReport {
    public var title: String
    /// What was explained, one line (the model and data files).
    public var subtitle: String
    public var shap: SHAPValues
    public var data: DenseMatrix
    /// Features shown in the bar chart, and the ones given a dependence plot.
    public var barFeatures = 20
    public var dependenceFeatures = 4
    /// Points drawn per dependence plot at most (rows taken at an even stride).
    public var maxPoints = 2000
    /// Feature pairs by mean |SHAP interaction| (tree models), largest first; nil leaves the chart out.
    public var interactions: [(first: Int, second: Int, meanAbsolute: Double)]?
    /// Rows the interactions were averaged over.
    public var interactionRows = 0

    public init(title: String, subtitle: String, shap: SHAPValues, data: DenseMatrix) {
        self.title = title
        self.subtitle = subtitle
        self.shap = shap
        self.data = data
    }

    public func html() -> String {
        let ranked = shap.importance()
        let names = shap.featureNames
        let total = ranked.reduce(0) { $0 + $1.meanAbsolute }
        let bias = shap.rows > 0 ? shap.values[shap.width - 1] : 0
        var b = "<h1>\(HTML.escape(title))</h1>"
        b += "<p class=\"muted\">\(HTML.escape(subtitle))</p>"
        b += "<h2>Summary</h2><p>" + summary(ranked, total: total, bias: bias) + "</p>"
        b += "<div class=\"charts\">"
        let bars = ranked.prefix(barFeatures)
        b += SVGChart.bars(
            title: "Mean |SHAP| (margin units)", labels: bars.map { names[$0.feature] },
            values: bars.map(\.meanAbsolute))
        b += "</div><h2>Dependence of the top features</h2><div class=\"charts\">"
        let stride = max(1, (shap.rows + maxPoints - 1) / maxPoints)
        for (feature, _) in ranked.prefix(dependenceFeatures) {
            var points: [(x: Double, y: Double)] = []
            var missing = 0
            for r in Swift.stride(from: 0, to: shap.rows, by: stride) {
                let x = data[r, feature]
                if x.isNaN { missing += 1 } else { points.append((Double(x), shap.values[r * shap.width + feature])) }
            }
            let note = missing > 0 ? " (\(missing) missing not shown)" : ""
            b += SVGChart.scatter(
                title: names[feature] + note, x: names[feature], y: "SHAP value of \(names[feature])", points: points)
        }
        b += "</div>"
        if let interactions, !interactions.isEmpty {
            let top = interactions.prefix(barFeatures)
            b += "<h2>Interactions</h2><p class=\"muted\">Mean |SHAP interaction value| of each pair of features "
            b += "(both halves) over \(Progress.count(interactionRows)) rows.</p><div class=\"charts\">"
            b += SVGChart.bars(
                title: "Mean |SHAP interaction| (margin units)",
                labels: top.map { "\(names[$0.first]) × \(names[$0.second])" }, values: top.map(\.meanAbsolute))
            b += "</div>"
        }
        b += "<h2>Importance</h2>"
        b += HTML.table(
            ["feature", "mean |SHAP|", "share"],
            ranked.map { [names[$0.feature], Self.format($0.meanAbsolute), Self.percent($0.meanAbsolute, total)] })
        return HTML.page(title: title, body: b)
    }

    func summary(_ ranked: [(feature: Int, meanAbsolute: Double)], total: Double, bias: Double) -> String {
        var s = "\(Progress.count(shap.rows)) rows explained; the expected margin (bias) is \(Self.format(bias))."
        let top = ranked.prefix(3).filter { $0.meanAbsolute > 0 }
        if !top.isEmpty {
            let share = top.reduce(0) { $0 + $1.meanAbsolute }
            s += " \(top.map { HTML.escape(shap.featureNames[$0.feature]) }.joined(separator: ", ")) carry "
            s += "\(Self.percent(share, total)) of the mean |SHAP|."
        }
        let unused = ranked.filter { $0.meanAbsolute == 0 }.count
        if unused > 0 { s += " \(unused) of \(ranked.count) features never change a prediction." }
        return s
    }

    static func format(_ x: Double) -> String { Progress.fixed(x, 4) }

    static func percent(_ part: Double, _ whole: Double) -> String {
        whole > 0 ? Progress.fixed(100 * part / whole, 1) + " %" : "-"
    }
}
