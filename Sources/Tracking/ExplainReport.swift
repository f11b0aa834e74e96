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
    /// Partial dependence of chosen features (`--pdp`): the grid, the mean of the ICE curves, a few
    /// of the curves, and (tree models) the weighted-traversal curve in margin units.
    public var partialDependence: [PartialDependenceCurve] = []

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
        if !partialDependence.isEmpty {
            b += "<h2>Partial dependence</h2><p class=\"muted\">The mean prediction over the rows with the feature "
            b += "set to each value (bold), and some rows' own curves (ICE, thin).</p><div class=\"charts\">"
            for curve in partialDependence { b += curve.chart() }
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

/// One feature's partial dependence, as `fsml explain --pdp` computes it.
public struct PartialDependenceCurve: Sendable {
    public var feature: String
    public var grid: [Float]
    /// The mean of the ICE curves: the brute-force partial dependence on the rows, in the model's output.
    public var average: [Double]
    public var ice: [[Double]]
    /// The weighted tree traversal (margin units), for tree models.
    public var recursion: [Double]?

    public init(feature: String, grid: [Float], average: [Double], ice: [[Double]], recursion: [Double]?) {
        self.feature = feature
        self.grid = grid
        self.average = average
        self.ice = ice
        self.recursion = recursion
    }

    func chart() -> String {
        let x = grid.map(Double.init)
        var series = ice.prefix(20).enumerated().map { k, curve in
            ChartSeries(
                name: k == 0 ? "rows (ICE)" : "", points: Array(zip(x, curve)).map { ($0.0, $0.1) }, dashed: true)
        }
        series.insert(
            ChartSeries(name: "partial dependence", points: Array(zip(x, average)).map { ($0.0, $0.1) }), at: 0)
        return SVGChart.lines(title: "Partial dependence: \(feature)", x: feature, y: "prediction", series: series)
    }

    public func json() -> JSONValue {
        .object([
            ("feature", .string(feature)), ("grid", .array(grid.map { .number(Double($0)) })),
            ("average", .array(average.map { .number($0) })),
            ("recursion_margin", recursion.map { .array($0.map { .number($0) }) } ?? .null),
        ])
    }
}
