import Foundation
import Testing

@testable import FsmlCore

@Suite struct SVGChartTests {
    static func texts(_ svg: String, class name: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "<text class=\"\(name)\"[^>]*>([^<]*)</text>")
        let range = NSRange(svg.startIndex..., in: svg)
        return pattern.matches(in: svg, range: range).map { String(svg[Range($0.range(at: 1), in: svg)!]) }
    }

    /// The y position of every point of the series named `name`.
    static func ys(_ svg: String, series name: String) -> [Double] {
        guard let start = svg.range(of: "data-name=\"\(name)\""),
            let points = svg[start.upperBound...].range(of: "points=\""),
            let end = svg[points.upperBound...].firstIndex(of: "\"")
        else { return [] }
        return svg[points.upperBound..<end].split(separator: " ").map { Double($0.split(separator: ",")[1])! }
    }

    @Test func aLineChartHasItsSeriesLegendAndDistinctTicks() {
        let svg = SVGChart.lines(
            title: "Learning curve", x: "iteration", y: "auc",
            series: [
                ChartSeries(name: "baseline", points: [(1, 0.8331), (50, 0.8337), (100, 0.8342)]),
                ChartSeries(name: "candidate", points: [(1, 0.8332), (50, 0.8335), (100, 0.8339)], dashed: true),
            ])
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(Self.texts(svg, class: "legend") == ["baseline", "candidate"])
        let yTicks = Self.texts(svg, class: "tick-y")
        #expect(yTicks.count >= 3 && Set(yTicks).count == yTicks.count)
        #expect(Self.texts(svg, class: "tick-x") == ["0", "20", "40", "60", "80", "100"])
        #expect(Self.ys(svg, series: "baseline").count == 3)
    }

    @Test func theLegendSitsBelowThePlotWhereNoCurveRuns() {
        let svg = SVGChart.lines(
            title: "t", x: "x", y: "y",
            series: (0..<6).map { i in ChartSeries(name: "run-\(i)-with-a-long-name", points: [(0, 0), (1, 1)]) },
            height: 340)
        let lowestPoint = (0..<6).flatMap { Self.ys(svg, series: "run-\($0)-with-a-long-name") }.max()!
        let legendTop = svg.components(separatedBy: "<text class=\"legend\"").dropFirst().map { item -> Double in
            let y = item.components(separatedBy: "y=\"")[1].prefix { $0 != "\"" }
            return Double(y)!
        }.min()!
        #expect(legendTop > lowestPoint + 20)
    }

    @Test func latenciesStartAtZero() {
        let svg = SVGChart.lines(
            title: "latency", x: "nines", y: "ms", series: [ChartSeries(name: "predict", points: [(0, 0.4), (4, 3.2)])])
        #expect(Self.texts(svg, class: "tick-y") == ["0", "1", "2", "3", "4"])
        #expect(!Self.texts(svg, class: "tick-y").contains { $0.hasPrefix("-") })
    }

    @Test func barsCarryTheirLabels() {
        let svg = SVGChart.bars(title: "PSI", labels: ["a", "b<c"], values: [0.5, 0.1])
        #expect(svg.contains("data-label=\"a\"") && svg.contains("data-label=\"b&lt;c\""))
    }
}
