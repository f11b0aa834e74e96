import Foundation

extension Calibration {
    /// Fits `method` to predictions and their labels (a held-out slice, never the training rows).
    public static func fit(_ method: Method, predictions: [Double], labels: [Float]) -> Calibration {
        switch method {
        case .platt: fitPlatt(predictions: predictions, labels: labels)
        case .isotonic: fitIsotonic(predictions: predictions, labels: labels)
        }
    }

    /// Platt's sigmoid on the log-odds, by Newton's method with a backtracking line search on the
    /// log-likelihood (Lin, Lin and Weng, 2007), with Platt's targets (N₊ + 1) / (N₊ + 2) and
    /// 1 / (N₋ + 2) in place of 1 and 0, as scikit-learn's sigmoid calibration uses them.
    public static func fitPlatt(predictions: [Double], labels: [Float]) -> Calibration {
        let f = predictions.map(logit)
        let positives = Double(labels.count { $0 > 0.5 })
        let negatives = Double(labels.count) - positives
        let hi = (positives + 1) / (positives + 2)
        let lo = 1 / (negatives + 2)
        let t = labels.map { $0 > 0.5 ? hi : lo }
        var a = 0.0
        var b = log((negatives + 1) / (positives + 1))
        func objective(_ a: Double, _ b: Double) -> Double {
            var total = 0.0
            for i in f.indices {
                let z = a * f[i] + b
                // −[t log p + (1 − t) log(1 − p)] with p = 1 / (1 + e^z), written without overflow.
                total += z >= 0 ? t[i] * z + log1p(exp(-z)) : (t[i] - 1) * z + log1p(exp(z))
            }
            return total
        }
        var value = objective(a, b)
        for _ in 0..<100 {
            var (h11, h22, h21, g1, g2) = (1e-12, 1e-12, 0.0, 0.0, 0.0)
            for i in f.indices {
                let z = a * f[i] + b
                let p = z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z))
                let q = 1 - p
                let d2 = p * q
                h11 += f[i] * f[i] * d2
                h22 += d2
                h21 += f[i] * d2
                let d1 = t[i] - p
                g1 += f[i] * d1
                g2 += d1
            }
            if abs(g1) < 1e-9 && abs(g2) < 1e-9 { break }
            let det = h11 * h22 - h21 * h21
            let da = -(h22 * g1 - h21 * g2) / det
            let db = -(-h21 * g1 + h11 * g2) / det
            let gd = g1 * da + g2 * db
            var step = 1.0
            var moved = false
            while step >= 1e-10 {
                let (na, nb) = (a + step * da, b + step * db)
                let next = objective(na, nb)
                if next < value + 1e-4 * step * gd {
                    (a, b, value) = (na, nb, next)
                    moved = true
                    break
                }
                step /= 2
            }
            if !moved { break }
        }
        return .platt(a: a, b: b)
    }

    /// Isotonic regression by pool-adjacent-violators over the predictions sorted (ties pooled
    /// first), keeping the first and last prediction of each block as points.
    public static func fitIsotonic(predictions: [Double], labels: [Float]) -> Calibration {
        let order = predictions.indices.sorted { predictions[$0] < predictions[$1] }
        // Blocks: (mean label, weight, lowest x, highest x).
        var blocks: [(mean: Double, weight: Double, low: Double, high: Double)] = []
        var i = 0
        while i < order.count {
            let x = predictions[order[i]]
            var (sum, count) = (0.0, 0.0)
            while i < order.count && predictions[order[i]] == x {
                sum += Double(labels[order[i]] > 0.5 ? 1 : 0)
                count += 1
                i += 1
            }
            blocks.append((sum / count, count, x, x))
            while blocks.count > 1 && blocks[blocks.count - 2].mean >= blocks[blocks.count - 1].mean {
                let last = blocks.removeLast()
                let prev = blocks.removeLast()
                let weight = prev.weight + last.weight
                blocks.append(
                    ((prev.mean * prev.weight + last.mean * last.weight) / weight, weight, prev.low, last.high))
            }
        }
        var x: [Double] = []
        var y: [Double] = []
        for block in blocks {
            x.append(block.low)
            y.append(block.mean)
            if block.high > block.low {
                x.append(block.high)
                y.append(block.mean)
            }
        }
        return .isotonic(x: x, y: y)
    }
}
