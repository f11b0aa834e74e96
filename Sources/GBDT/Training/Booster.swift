import FsmlCore

/// Metrics after one boosting iteration.
public struct IterationRecord: Sendable, Equatable {
    public var iteration: Int
    public var train: [MetricValue]
    public var valid: [MetricValue]
}

public struct MetricValue: Sendable, Equatable {
    public var metric: MetricKind
    public var value: Double
}

public struct TrainingResult: Sendable {
    public var model: GBDTModel
    /// Predictions of the final model on the training rows, kept from training (nil when early
    /// stopping dropped trees, so they would need computing again).
    public var trainPredictions: [Double]?
    public var validPredictions: [Double]?
    public var history: [IterationRecord]
    /// The iteration (1-based) whose trees were kept.
    public var bestIteration: Int
    public var binningSeconds: Double
    public var trainingSeconds: Double
}

public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The boosting loop: gradients → a tree → scores, until the iterations run out or the validation
/// metric stops improving.
///
/// Results depend on the seed and the data only: every parallel step splits work by feature or
/// by fixed row blocks, never by thread.
public enum Booster {
    /// Train metrics in the history are measured on a fixed, seeded sample of at most this many
    /// training rows, so that recording them costs little; final metrics use every row.
    public static let trainMetricSample = 20_000

    public static func train(
        _ train: LabeledData, valid: LabeledData? = nil, params: TrainingParams,
        onIteration: ((IterationRecord) -> Void)? = nil
    ) throws -> TrainingResult {
        if let problem = params.objective.validate(labels: train.labels) {
            throw TrainingError(description: "training data: \(problem)")
        }
        if let valid, let problem = params.objective.validate(labels: valid.labels) {
            throw TrainingError(description: "validation data: \(problem)")
        }
        if params.objective == .quantile && !(params.objectiveAlpha > 0 && params.objectiveAlpha < 1) {
            throw TrainingError(
                description: "quantile: alpha=\(params.objectiveAlpha) must lie strictly between 0 and 1")
        }
        if params.objective == .huber && !(params.objectiveAlpha > 0) {
            throw TrainingError(description: "huber: alpha=\(params.objectiveAlpha) must be positive")
        }
        for (name, data) in [("training", train), ("validation", valid)] {
            guard let w = data?.weights else { continue }
            if w.contains(where: { !($0 >= 0 && $0.isFinite) }) || !w.contains(where: { $0 > 0 }) {
                throw TrainingError(description: "\(name) weights must be 0 or more, and not all 0")
            }
        }
        if !params.monotoneConstraints.isEmpty && params.monotoneConstraints.count != train.features.columns {
            throw TrainingError(
                description:
                    "monotone_constraints gives \(params.monotoneConstraints.count) directions for \(train.features.columns) features"
            )
        }
        if !params.monotoneConstraints.isEmpty && params.objective.renewalQuantile(alpha: 0.5) != nil {
            // Their leaves are set to residual quantiles after the tree is grown, past the bounds.
            throw TrainingError(
                description:
                    "monotone_constraints do not combine with \(params.objective.rawValue) (its leaves are renewed)")
        }
        if params.objective.isRanking {
            for (name, data) in [("training", train), ("validation", valid)] where data != nil && data!.groups == nil {
                throw TrainingError(
                    description:
                        "\(params.objective.rawValue) ranks documents within queries: the \(name) data needs its groups (FILE.query, one query size a line)"
                )
            }
        }
        if let valid, valid.features.columns != train.features.columns {
            throw TrainingError(
                description:
                    "validation data has \(valid.features.columns) features, training data \(train.features.columns)")
        }
        let classes = try classCount(params, train: train, valid: valid)
        var params = params
        if classes > 1 { params.numClass = classes }
        let categorical: Set<Int>
        do { categorical = try params.categoricalColumns(names: featureNames(train.features)) } catch {
            throw TrainingError(description: error.description)
        }
        if let f = categorical.first(where: {
            $0 < params.monotoneConstraints.count && params.monotoneConstraints[$0] != 0
        }) {
            throw TrainingError(description: "feature \(f) is categorical: it cannot have a monotone constraint")
        }
        let threads = params.threads
        let binStart = monotonicNanos()
        let binned = BinnedData.build(
            train.features, maxBin: params.maxBin, sampleRows: params.binConstructSampleCount, seed: params.seed,
            threads: threads, categorical: categorical)
        let validBinned = valid.map { BinnedData($0.features, mappers: binned.mappers, threads: threads) }
        let binningSeconds = Double(monotonicNanos() - binStart) / 1e9

        let trainStart = monotonicNanos()
        let n = train.rows
        let objective = params.objective
        let alpha = params.objectiveAlpha
        let weights = train.weights
        // Rows with starting margins of their own start there, and the model adds to them
        // (LightGBM turns boost_from_average off then).
        let initScore =
            train.initScores == nil ? objective.initialScore(labels: train.labels, weights: weights, alpha: alpha) : 0
        // Scores are class-major: class k's margins of every row at k · n.
        let classStarts =
            classes > 1
            ? MulticlassObjective.initialScores(labels: train.labels, weights: weights, classes: classes) : [initScore]
        let renewal = objective.renewalQuantile(alpha: alpha)
        var scores = train.initScores ?? classStarts.flatMap { [Double](repeating: $0, count: n) }
        let validRows = valid?.rows ?? 0
        var validScores = valid?.initScores ?? classStarts.flatMap { [Double](repeating: $0, count: validRows) }
        let learner = TreeLearner(data: binned, params: params)
        let metrics = params.effectiveMetrics
        // Ranking metrics need whole queries: every row.
        let sample = objective.isRanking ? Array(0..<n) : metricSample(rows: n, seed: params.seed)
        let sampleLabels = sample.map { train.labels[$0] }
        let queries = train.groupOffsets
        let validQueries = valid?.groupOffsets
        let rankingQueries = queries.map {
            RankingQueries(labels: train.labels, offsets: $0, truncationLevel: params.lambdarankTruncationLevel)
        }
        // Ranking and softmax losses are computed for every row (and class) before the trees ask
        // for rows.
        let precomputed = objective.isRanking || classes > 1
        var allGradients = [Float](repeating: 0, count: precomputed ? n * classes : 0)
        var allHessians = allGradients
        let sampleWeights = weights.map { w in sample.map { w[$0] } }
        var trees: [Tree] = []
        var history: [IterationRecord] = []
        var bag: [Int32]?
        var best: (iteration: Int, value: Double)?
        let allFeatures = Array(0..<binned.columns)

        for iteration in 0..<params.numIterations {
            if params.baggingFraction < 1 && params.baggingFreq > 0 && iteration % params.baggingFreq == 0 {
                bag = sampleBag(rows: n, fraction: params.baggingFraction, seed: params.seed, iteration: iteration)
            }
            let features =
                params.featureFraction < 1
                ? sampleFeatures(allFeatures, fraction: params.featureFraction, seed: params.seed, iteration: iteration)
                : allFeatures
            if let rankingQueries {
                rankingGradients(
                    params, scores: scores, labels: train.labels, queries: rankingQueries, iteration: iteration,
                    team: learner.team, g: &allGradients, h: &allHessians)
            } else if classes > 1 {
                softmaxGradients(
                    scores: scores, labels: train.labels, classes: classes, team: learner.team, g: &allGradients,
                    h: &allHessians)
            }
            // A round grows one tree per class. A single-leaf tree adds the same to every row: it is
            // added once the round is known to be kept (training stops at a round of them).
            var round: [Tree] = []
            for k in 0..<classes {
                let offset = k * n
                var tree = scores.withUnsafeBufferPointer { s in
                    train.labels.withUnsafeBufferPointer { y in
                        let (s, y) = (s.baseAddress!, y.baseAddress!)
                        return learner.grow(
                            gradients: { rows, g, h in
                                if precomputed {
                                    for i in rows {
                                        g[i] = allGradients[offset + i]
                                        h[i] = allHessians[offset + i]
                                    }
                                } else {
                                    objective.gradients(
                                        scores: s, labels: y, gradients: g, hessians: h, rows: rows, alpha: alpha,
                                        maxDeltaStep: params.poissonMaxDeltaStep)
                                }
                                if let weights {
                                    for i in rows {
                                        g[i] *= weights[i]
                                        h[i] *= weights[i]
                                    }
                                }
                            }, bag: bag, features: features, shrinkage: params.learningRate)
                    }
                }
                if let q = renewal {
                    learner.renewLeaves(
                        of: &tree, quantile: q, shrinkage: params.learningRate,
                        weight: weights.map { w in { Double(w[$0]) } }
                    ) { i in Double(train.labels[i]) - scores[i] }
                }
                round.append(tree)
                guard tree.internalNodes > 0 else { continue }
                scores.withUnsafeMutableBufferPointer { s in
                    if bag == nil {
                        learner.addLeafValues(of: tree, to: s.baseAddress! + offset)
                    } else {
                        addBinned(tree, data: binned, to: s.baseAddress! + offset, threads: threads)
                    }
                }
                if let validBinned {
                    validScores.withUnsafeMutableBufferPointer {
                        addBinned(tree, data: validBinned, to: $0.baseAddress! + k * validRows, threads: threads)
                    }
                }
            }
            if iteration > 0 && round.allSatisfy({ $0.internalNodes == 0 }) { break }
            for (k, tree) in round.enumerated() where tree.internalNodes == 0 {
                for i in k * n..<(k + 1) * n { scores[i] += tree.leafValue[0] }
                for i in k * validRows..<(k + 1) * validRows { validScores[i] += tree.leafValue[0] }
            }
            trees += round
            let trainPredictions = outputs(objective, scores, rows: n, classes: classes, of: sample)
            var record = IterationRecord(
                iteration: iteration + 1,
                train: Metrics.evaluate(
                    metrics, predictions: trainPredictions, labels: sampleLabels, weights: sampleWeights,
                    team: learner.team, alpha: alpha, groups: queries),
                valid: [])
            if let valid {
                let p = outputs(objective, validScores, rows: validRows, classes: classes)
                record.valid = Metrics.evaluate(
                    metrics, predictions: p, labels: valid.labels, weights: valid.weights, team: learner.team,
                    alpha: alpha, groups: validQueries)
                let watched = record.valid[0]
                if let b = best {
                    let better = watched.metric.higherIsBetter ? watched.value > b.value : watched.value < b.value
                    if better { best = (iteration + 1, watched.value) }
                } else {
                    best = (iteration + 1, watched.value)
                }
            }
            history.append(record)
            onIteration?(record)
            if params.earlyStoppingRounds > 0, let b = best, iteration + 1 - b.iteration >= params.earlyStoppingRounds {
                break
            }
        }
        var bestIteration = trees.count / classes
        if params.earlyStoppingRounds > 0, let b = best {
            bestIteration = b.iteration
            trees = Array(trees.prefix(bestIteration * classes))
        }
        // Bin thresholds only mean something for this training's bins.
        for k in trees.indices {
            trees[k].thresholdBin = []
            trees[k].categoryBins = []
        }
        // A multiclass model keeps no starting margins apart: each class's rides in its first tree.
        if classes > 1 && train.initScores == nil {
            for k in 0..<min(classes, trees.count) { trees[k] = trees[k].shifted(by: classStarts[k]) }
        }
        let complete = bestIteration == history.count
        let trainPredictions = complete ? outputs(objective, scores, rows: n, classes: classes) : nil
        let validPredictions =
            complete && valid != nil ? outputs(objective, validScores, rows: validRows, classes: classes) : nil
        let model = GBDTModel(
            objective: objective, initScore: classes > 1 ? 0 : initScore, trees: trees,
            featureNames: featureNames(train.features),
            parameters: Dictionary(uniqueKeysWithValues: params.asDictionary), bestIteration: bestIteration,
            numClass: classes)
        return TrainingResult(
            model: model, trainPredictions: trainPredictions, validPredictions: validPredictions, history: history,
            bestIteration: bestIteration, binningSeconds: binningSeconds,
            trainingSeconds: Double(monotonicNanos() - trainStart) / 1e9)
    }

    /// The data's feature names, or f0, f1, ... when it has none.
    static func featureNames(_ matrix: DenseMatrix) -> [String] {
        matrix.featureNames.count == matrix.columns ? matrix.featureNames : (0..<matrix.columns).map { "f\($0)" }
    }

    /// The number of outputs a row: num_class for a multiclass objective (checked against the
    /// labels, or one more than the largest training label when not given), 1 otherwise.
    static func classCount(_ params: TrainingParams, train: LabeledData, valid: LabeledData?) throws -> Int {
        guard params.objective.isMulticlass else { return 1 }
        let classes = params.numClass > 0 ? params.numClass : MulticlassObjective.classCount(labels: train.labels)
        guard classes >= 2 else {
            throw TrainingError(description: "multiclass needs at least 2 classes (num_class=\(classes))")
        }
        for (name, data) in [("training", train), ("validation", valid)] {
            if let data, let top = data.labels.max(), Int(top) >= classes {
                throw TrainingError(
                    description:
                        "\(name) data has class label \(Int(top)), but num_class=\(classes) allows 0 to \(classes - 1)")
            }
            if data?.initScores != nil {
                throw TrainingError(description: "\(name) init scores are not supported for multiclass yet")
            }
        }
        return classes
    }

    /// Predictions from margins: the objective's output a row, or for K classes the K softmax
    /// probabilities a row (row-major) from class-major margins; of the rows `of` when given.
    static func outputs(
        _ objective: ObjectiveKind, _ scores: [Double], rows: Int, classes: Int, of subset: [Int]? = nil
    ) -> [Double] {
        guard classes > 1 else {
            guard let subset else { return scores.map(objective.transform) }
            return subset.map { objective.transform(scores[$0]) }
        }
        return MulticlassObjective.probabilities(classMajor: scores, rows: rows, classes: classes, of: subset)
    }

    /// The softmax objective's gradients and hessians of every class, in fixed row blocks on the team.
    static func softmaxGradients(
        scores: [Double], labels: [Float], classes: Int, team: WorkerTeam, g: inout [Float], h: inout [Float]
    ) {
        let n = labels.count
        let block = 16_384
        withPointers(scores, labels, &g, &h) { s, y, gp, hp in
            team.forEach((n + block - 1) / block) { b in
                MulticlassObjective.gradients(
                    scores: s, labels: y, rowCount: n, classes: classes, gradients: gp.value, hessians: hp.value,
                    rows: b * block..<min((b + 1) * block, n))
            }
        }
    }

    /// The ranking objective's gradients and hessians of every row, query by query on the team.
    /// XE-NDCG's noise is drawn per query and iteration from the seed, so that results do not
    /// depend on the threads.
    static func rankingGradients(
        _ params: TrainingParams, scores: [Double], labels: [Float], queries: RankingQueries, iteration: Int,
        team: WorkerTeam, g: inout [Float], h: inout [Float]
    ) {
        var objective = RankingObjective()
        objective.truncationLevel = params.lambdarankTruncationLevel
        objective.normalize = params.lambdarankNorm
        objective.sigmoid = params.sigmoid
        let xendcg = params.objective == .rankXENDCG
        withPointers(scores, labels, &g, &h) { s, y, gp, hp in
            team.forEach(queries.count) { q in
                if xendcg {
                    // Drawn in document order, one each, as the query's computation asks for them.
                    var rng = SeededRandom(seed: params.seed &+ UInt64(iteration), stream: UInt64(q))
                    objective.xendcg(scores: s, g: gp.value, h: hp.value, query: q, table: queries) { _ in
                        rng.uniform()
                    }
                } else {
                    objective.lambdarank(scores: s, labels: y, g: gp.value, h: hp.value, query: q, table: queries)
                }
            }
        }
    }

    /// Scores and labels as pointers, and gradient and hessian buffers as pointers the team's
    /// threads may write (each to rows of its own).
    static func withPointers(
        _ scores: [Double], _ labels: [Float], _ g: inout [Float], _ h: inout [Float],
        _ body: (
            UnsafePointer<Double>, UnsafePointer<Float>, UncheckedBox<UnsafeMutablePointer<Float>>,
            UncheckedBox<UnsafeMutablePointer<Float>>
        ) -> Void
    ) {
        scores.withUnsafeBufferPointer { s in
            labels.withUnsafeBufferPointer { y in
                g.withUnsafeMutableBufferPointer { gb in
                    h.withUnsafeMutableBufferPointer { hb in
                        body(
                            s.baseAddress!, y.baseAddress!, UncheckedBox(gb.baseAddress!), UncheckedBox(hb.baseAddress!)
                        )
                    }
                }
            }
        }
    }

    /// Adds a tree's outputs to scores by walking it on bin codes (rows outside the bag, and
    /// validation rows).
    static func addBinned(_ tree: Tree, data: BinnedData, to scores: UnsafeMutablePointer<Double>, threads: Int) {
        let n = data.rows
        let block = 65_536
        let box = UncheckedBox(scores)
        Parallel.forEach((n + block - 1) / block, threads: threads) { b in
            for i in b * block..<min((b + 1) * block, n) {
                box.value[i] += tree.leafValue[leaf(of: tree, row: i, data: data)]
            }
        }
    }

    @inline(__always)
    static func leaf(of tree: Tree, row i: Int, data: BinnedData) -> Int {
        if tree.internalNodes == 0 { return 0 }
        var node: Int32 = 0
        while node >= 0 {
            let k = Int(node)
            let b = data.code(row: i, feature: Int(tree.splitFeature[k]))
            let left: Bool
            if !tree.categoryIndex.isEmpty && tree.categoryIndex[k] >= 0 {
                left = tree.categoryBins[Int(tree.categoryIndex[k])].contains(b)
            } else {
                left = b == 0 ? tree.defaultLeft[k] : b <= tree.thresholdBin[k]
            }
            node = left ? tree.leftChild[k] : tree.rightChild[k]
        }
        return Int(~node)
    }

    static func metricSample(rows: Int, seed: UInt64) -> [Int] {
        guard rows > trainMetricSample else { return Array(0..<rows) }
        var rng = SeededRandom(seed: seed, stream: 0x5A)
        var all = Array(0..<rows)
        for i in 0..<trainMetricSample { all.swapAt(i, i + rng.below(rows - i)) }
        return Array(all[0..<trainMetricSample]).sorted()
    }

    static func sampleBag(rows: Int, fraction: Double, seed: UInt64, iteration: Int) -> [Int32] {
        var rng = SeededRandom(seed: seed, stream: 0xBA6 &+ UInt64(iteration))
        var bag: [Int32] = []
        bag.reserveCapacity(Int(Double(rows) * fraction) + 16)
        for i in 0..<rows where rng.uniform() < fraction { bag.append(Int32(i)) }
        if bag.isEmpty { bag.append(Int32(rng.below(rows))) }
        return bag
    }

    static func sampleFeatures(_ all: [Int], fraction: Double, seed: UInt64, iteration: Int) -> [Int] {
        var rng = SeededRandom(seed: seed, stream: 0xFEA7 &+ UInt64(iteration))
        let k = max(1, Int((Double(all.count) * fraction).rounded()))
        var pool = all
        for i in 0..<k { pool.swapAt(i, i + rng.below(pool.count - i)) }
        return Array(pool[0..<k]).sorted()
    }
}
