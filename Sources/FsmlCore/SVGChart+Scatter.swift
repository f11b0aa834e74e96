extension SVGChart {
    /// Points without lines (a dependence plot: a feature's value against its contribution), with a
    /// dashed rule at y = 0. Points that are not finite are left out.
    public static func scatter(
        title: String, x xLabel: String, y yLabel: String, points: [(x: Double, y: Double)], width: Double = 520,
        height: Double = 340
    ) -> String {
        let shown = points.filter { $0.x.isFinite && $0.y.isFinite }
        let xTicks = AxisTicks(data: (shown.map(\.x).min() ?? 0)...(shown.map(\.x).max() ?? 1))
        // The zero line is always in view: contributions are read against it.
        let yTicks = AxisTicks(data: min(0, shown.map(\.y).min() ?? 0)...max(0, shown.map(\.y).max() ?? 1))
        let (xr, yr) = (xTicks.range, yTicks.range)
        let left = 62.0
        let right = 16.0
        let top = 30.0
        let bottom = 44.0
        let w = width - left - right
        let h = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * w }
        func py(_ y: Double) -> Double { top + h - (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * h }
        var s = header(width: width, height: height, title: title)
        s += axes(
            xTicks, yTicks, Plot(left: left, top: top, w: w, h: h, bottom: height), px: px, py: py, x: xLabel, y: yLabel
        )
        s +=
            "<line x1=\"\(f(left))\" y1=\"\(f(py(0)))\" x2=\"\(f(left + w))\" y2=\"\(f(py(0)))\" stroke=\"#aaa\" stroke-dasharray=\"4 4\"/>"
        s += "<g fill=\"\(palette[0])\" fill-opacity=\"0.45\">"
        for p in shown { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2\"/>" }
        return s + "</g></svg>"
    }
}
