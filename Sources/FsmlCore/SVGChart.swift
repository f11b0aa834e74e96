import Foundation

/// One line on a chart.
public struct ChartSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public var dashed: Bool

    public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false) {
        self.name = name
        self.points = points
        self.dashed = dashed
    }
}

/// Charts as inline SVG text, so reports are single files that open anywhere without a network.
public enum SVGChart {
    public static let palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
    ]

    /// A line chart. `diagonal` draws y = x (the chance line of a ROC curve, perfect calibration).
    /// Without a range, an axis spans its data widened to round ticks, and a y axis of values that
    /// are all at least zero starts at zero at the lowest. The legend sits below the plot, where
    /// it hides no curve.
    public static func lines(
        title: String, x xLabel: String, y yLabel: String, series: [ChartSeries], xRange: ClosedRange<Double>? = nil,
        yRange: ClosedRange<Double>? = nil, diagonal: Bool = false, width: Double = 520, height: Double = 340,
        xTickLabel: ((Double) -> String)? = nil
    ) -> String {
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        func span(_ values: [Double]) -> ClosedRange<Double> { (values.min() ?? 0)...(values.max() ?? 1) }
        // Whole-number x values (iterations, steps) tick on whole numbers.
        let xTicks =
            xRange.map { AxisTicks(fixed: $0) }
            ?? AxisTicks(data: span(all.map(\.x)), integers: !all.isEmpty && all.allSatisfy { $0.x == $0.x.rounded() })
        let yTicks =
            yRange.map { AxisTicks(fixed: $0) }
            ?? AxisTicks(data: span(all.map(\.y)), floorAtZero: all.allSatisfy { $0.y >= 0 })
        let (xr, yr) = (xTicks.range, yTicks.range)
        let legend = Legend(names: series.map(\.name), width: width - 24)
        let left = 62.0
        let right = 16.0
        let top = 30.0
        let bottom = 44.0
        let plotHeight = height - legend.height
        let w = width - left - right
        let h = plotHeight - top - bottom
        func px(_ x: Double) -> Double {
            left + (xr.upperBound > xr.lowerBound ? (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) : 0.5) * w
        }
        func py(_ y: Double) -> Double {
            top + h - (yr.upperBound > yr.lowerBound ? (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) : 0.5) * h
        }
        var s = header(width: width, height: height, title: title)
        s += axes(
            xTicks, yTicks, Plot(left: left, top: top, w: w, h: h, bottom: plotHeight), px: px, py: py, x: xLabel,
            y: yLabel, xTickLabel: xTickLabel)
        if diagonal {
            let lo = max(xr.lowerBound, yr.lowerBound)
            let hi = min(xr.upperBound, yr.upperBound)
            s +=
                "<line x1=\"\(f(px(lo)))\" y1=\"\(f(py(lo)))\" x2=\"\(f(px(hi)))\" y2=\"\(f(py(hi)))\" stroke=\"#aaa\" stroke-dasharray=\"4 4\"/>"
        }
        for (i, series) in series.enumerated() {
            let pts = series.points.filter { $0.x.isFinite && $0.y.isFinite }.map { "\(f(px($0.x))),\(f(py($0.y)))" }
            guard !pts.isEmpty else { continue }
            let color = palette[i % palette.count]
            s +=
                "<polyline class=\"series\" data-name=\"\(HTML.escape(series.name))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"\(series.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(pts.joined(separator: " "))\"/>"
            if pts.count <= 12 {
                for p in pts {
                    let xy = p.split(separator: ",")
                    s += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color)\"/>"
                }
            }
        }
        s += legend.svg(left: 12, top: plotHeight, dashed: series.map(\.dashed))
        return s + "</svg>"
    }

    /// The names of a chart's series in rows below it, each after a short line in its colour;
    /// series without a name are left out.
    struct Legend {
        /// (series, row, x offset) of each name shown.
        var places: [(series: Int, row: Int, x: Double)] = []
        var names: [String]
        var height: Double { places.isEmpty ? 0 : Double((places.map(\.row).max() ?? 0) + 1) * 16 + 4 }

        init(names: [String], width: Double) {
            self.names = names.map { String($0.prefix(40)) }
            var (row, x) = (0, 0.0)
            for (i, name) in self.names.enumerated() where !name.isEmpty {
                // About 6.2 px a character at 11 px sans-serif, and the 18 px line before it.
                let itemWidth = 24 + 6.2 * Double(name.count) + 14
                if x > 0 && x + itemWidth > width { (row, x) = (row + 1, 0) }
                places.append((i, row, x))
                x += itemWidth
            }
        }

        func svg(left: Double, top: Double, dashed: [Bool]) -> String {
            var s = ""
            for place in places {
                let (x, y) = (left + place.x, top + 10 + Double(place.row) * 16)
                let color = palette[place.series % palette.count]
                s +=
                    "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 18))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"2\"\(dashed[place.series] ? " stroke-dasharray=\"5 3\"" : "")/>"
                s +=
                    "<text class=\"legend\" x=\"\(f(x + 24))\" y=\"\(f(y + 4))\">\(HTML.escape(names[place.series]))</text>"
            }
            return s
        }
    }

    /// Horizontal bars, largest first as given.
    public static func bars(title: String, labels: [String], values: [Double], width: Double = 520) -> String {
        let rowHeight = 18.0
        let top = 30.0
        let left = 170.0
        let height = top + rowHeight * Double(labels.count) + 12
        let maxValue = max(values.filter(\.isFinite).max() ?? 1, 1e-300)
        var s = header(width: width, height: height, title: title)
        for (i, (label, value)) in zip(labels, values).enumerated() {
            let y = top + Double(i) * rowHeight
            let barWidth = value.isFinite ? max(0, value / maxValue) * (width - left - 70) : 0
            s +=
                "<text x=\"\(f(left - 6))\" y=\"\(f(y + 12))\" text-anchor=\"end\">\(HTML.escape(String(label.prefix(28))))</text>"
            s +=
                "<rect class=\"bar\" data-label=\"\(HTML.escape(label))\" x=\"\(f(left))\" y=\"\(f(y + 2))\" width=\"\(f(barWidth))\" height=\"\(f(rowHeight - 5))\" fill=\"\(palette[0])\"/>"
            s += "<text x=\"\(f(left + barWidth + 4))\" y=\"\(f(y + 12))\">\(HTML.escape(number(value)))</text>"
        }
        return s + "</svg>"
    }

    static func header(width: Double, height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"11\">"
            + "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(HTML.escape(title))</text>"
    }

    /// Where a chart's plot area is; `bottom` is the height above the legend.
    struct Plot {
        var left: Double
        var top: Double
        var w: Double
        var h: Double
        var bottom: Double
    }

    /// The frame, grid lines and tick labels on round numbers, and the axis labels.
    static func axes(
        _ xTicks: AxisTicks, _ yTicks: AxisTicks, _ p: Plot, px: (Double) -> Double, py: (Double) -> Double,
        x xLabel: String, y yLabel: String, xTickLabel: ((Double) -> String)? = nil
    ) -> String {
        var s =
            "<rect x=\"\(f(p.left))\" y=\"\(f(p.top))\" width=\"\(f(p.w))\" height=\"\(f(p.h))\" fill=\"none\" stroke=\"#888\"/>"
        for v in yTicks.values {
            s +=
                "<line x1=\"\(f(p.left))\" y1=\"\(f(py(v)))\" x2=\"\(f(p.left + p.w))\" y2=\"\(f(py(v)))\" stroke=\"#eee\"/>"
            s +=
                "<text class=\"tick-y\" x=\"\(f(p.left - 4))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(yTicks.label(v))</text>"
        }
        for v in xTicks.values {
            s +=
                "<text class=\"tick-x\" x=\"\(f(px(v)))\" y=\"\(f(p.top + p.h + 14))\" text-anchor=\"middle\">\(HTML.escape(xTickLabel?(v) ?? xTicks.label(v)))</text>"
        }
        s +=
            "<text x=\"\(f(p.left + p.w / 2))\" y=\"\(f(p.bottom - 8))\" text-anchor=\"middle\">\(HTML.escape(xLabel))</text>"
        s +=
            "<text transform=\"translate(14 \(f(p.top + p.h / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
        return s
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }

    static func number(_ x: Double) -> String {
        if !x.isFinite { return "-" }
        if x == x.rounded() && abs(x) < 1e7 { return String(Int(x)) }
        return abs(x) >= 100
            ? String(format: "%.0f", x) : abs(x) >= 1 ? String(format: "%.2f", x) : String(format: "%.3g", x)
    }
}

/// Small helpers for the self-contained HTML reports.
public enum HTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A whole page with its style inline.
    public static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1150px}
        h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
        th{background:#f4f4f4}td.l,th.l{text-align:left}.best{font-weight:bold;background:#e8f5e9}
        .passed{color:#1b5e20;background:#e8f5e9}.failed{font-weight:bold;color:#b71c1c;background:#ffebee}
        .summary{font-size:15px;padding:8px 12px;background:#f7f9fc;border-left:4px solid #1f77b4}
        .charts{display:flex;flex-wrap:wrap;gap:12px}.muted{color:#777;font-size:12px}
        pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto;max-height:400px}
        </style></head><body>
        \(body)
        </body></html>

        """
    }

    /// A table; `left` lists the columns aligned left, `classes` marks cells (row, column) with a class.
    public static func table(
        _ header: [String], _ rows: [[String]], left: Set<Int> = [0], classes: [[Int]: String] = [:]
    ) -> String {
        var s = "<table><tr>"
        for (i, h) in header.enumerated() { s += "<th\(left.contains(i) ? " class=\"l\"" : "")>\(escape(h))</th>" }
        s += "</tr>"
        for (r, row) in rows.enumerated() {
            s += "<tr>"
            for (i, cell) in row.enumerated() {
                var cls = left.contains(i) ? ["l"] : []
                if let c = classes[[r, i]] { cls.append(c) }
                s += "<td\(cls.isEmpty ? "" : " class=\"\(cls.joined(separator: " "))\"")>\(escape(cell))</td>"
            }
            s += "</tr>"
        }
        return s + "</table>"
    }
}
