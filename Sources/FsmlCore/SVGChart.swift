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
    public static func lines(
        title: String, x xLabel: String, y yLabel: String, series: [ChartSeries], xRange: ClosedRange<Double>? = nil,
        yRange: ClosedRange<Double>? = nil, diagonal: Bool = false, width: Double = 520, height: Double = 340
    ) -> String {
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xr = xRange ?? padded((all.map(\.x).min() ?? 0)...(all.map(\.x).max() ?? 1), pad: false)
        let yr = yRange ?? padded((all.map(\.y).min() ?? 0)...(all.map(\.y).max() ?? 1), pad: true)
        let left = 62.0
        let right = 16.0
        let top = 30.0
        let bottom = 44.0
        let w = width - left - right
        let h = height - top - bottom
        func px(_ x: Double) -> Double {
            left + (xr.upperBound > xr.lowerBound ? (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) : 0.5) * w
        }
        func py(_ y: Double) -> Double {
            top + h - (yr.upperBound > yr.lowerBound ? (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) : 0.5) * h
        }
        var s = header(width: width, height: height, title: title)
        s += axes(left: left, top: top, w: w, h: h, xr: xr, yr: yr, px: px, py: py)
        s +=
            "<text x=\"\(f(left + w / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(HTML.escape(xLabel))</text>"
        s +=
            "<text transform=\"translate(14 \(f(top + h / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
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
                "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"\(series.dashed ? " stroke-dasharray=\"5 3\"" : "") points=\"\(pts.joined(separator: " "))\"/>"
            if pts.count <= 12 {
                for p in pts {
                    let xy = p.split(separator: ",")
                    s += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color)\"/>"
                }
            }
            let ly = top + 6 + Double(i) * 15
            s +=
                "<line x1=\"\(f(left + w - 150))\" y1=\"\(f(ly))\" x2=\"\(f(left + w - 132))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"\(series.dashed ? " stroke-dasharray=\"5 3\"" : "")/>"
            s +=
                "<text x=\"\(f(left + w - 128))\" y=\"\(f(ly + 4))\">\(HTML.escape(String(series.name.prefix(24))))</text>"
        }
        return s + "</svg>"
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
                "<rect x=\"\(f(left))\" y=\"\(f(y + 2))\" width=\"\(f(barWidth))\" height=\"\(f(rowHeight - 5))\" fill=\"\(palette[0])\"/>"
            s += "<text x=\"\(f(left + barWidth + 4))\" y=\"\(f(y + 12))\">\(HTML.escape(number(value)))</text>"
        }
        return s + "</svg>"
    }

    static func header(width: Double, height: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"11\">"
            + "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(HTML.escape(title))</text>"
    }

    static func axes(
        left: Double, top: Double, w: Double, h: Double, xr: ClosedRange<Double>, yr: ClosedRange<Double>,
        px: (Double) -> Double, py: (Double) -> Double
    ) -> String {
        var s =
            "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"none\" stroke=\"#888\"/>"
        for i in 0...4 {
            let xv = xr.lowerBound + (xr.upperBound - xr.lowerBound) * Double(i) / 4
            let yv = yr.lowerBound + (yr.upperBound - yr.lowerBound) * Double(i) / 4
            s +=
                "<line x1=\"\(f(left))\" y1=\"\(f(py(yv)))\" x2=\"\(f(left + w))\" y2=\"\(f(py(yv)))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(px(xv)))\" y=\"\(f(top + h + 14))\" text-anchor=\"middle\">\(number(xv))</text>"
            s += "<text x=\"\(f(left - 4))\" y=\"\(f(py(yv) + 4))\" text-anchor=\"end\">\(number(yv))</text>"
        }
        return s
    }

    static func padded(_ r: ClosedRange<Double>, pad: Bool) -> ClosedRange<Double> {
        guard r.upperBound > r.lowerBound else { return (r.lowerBound - 1)...(r.upperBound + 1) }
        let p = pad ? (r.upperBound - r.lowerBound) * 0.05 : 0
        return (r.lowerBound - p)...(r.upperBound + p)
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
