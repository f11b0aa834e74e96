import Foundation
import FsmlCore
import Testing

@testable import GBDT

@Suite struct DataAndParamsTests {
    @Test func csvWithAHeaderANamedLabelAndMissingValues() throws {
        let path = Fixture.temporaryPath("data.csv")
        try FileSystem.writeAtomically("\"a\",clicked,b\n1.5,1,NA\n,0,2e3\n-3,1,nan\n", to: path)
        let data = try DataLoader.load(path: path, format: .csv, labelColumn: "clicked")
        #expect(data.features.featureNames == ["a", "b"])
        #expect(data.labels == [1, 0, 1])
        #expect(data.features[0, 0] == 1.5 && data.features[0, 1].isNaN)
        #expect(data.features[1, 0].isNaN && data.features[1, 1] == 2000)
        let unlabelled = try DataLoader.load(path: path, format: .csv, labelColumn: "none")
        #expect(unlabelled.features.columns == 3 && unlabelled.labels.allSatisfy(\.isNaN))
    }

    @Test func libsvmMeansAbsentIsZero() throws {
        let path = Fixture.temporaryPath("data.svm")
        try FileSystem.writeAtomically("1 1:0.5 3:2\n0 2:1\n", to: path)
        let data = try DataLoader.load(path: path, format: .libsvm)
        #expect(data.features.columns == 4)
        #expect(data.features.values == [0, 0.5, 0, 2, 0, 0, 1, 0])
        #expect(data.labels == [1, 0])
    }

    @Test func malformedFilesNameTheLine() throws {
        let path = Fixture.temporaryPath("bad.csv")
        try FileSystem.writeAtomically("1,2,3\n0,x,4\n", to: path)
        #expect(throws: DataLoadError("\(path):2: field 2 'x' is not a number")) {
            try DataLoader.load(path: path, format: .csv, header: .no)
        }
        try FileSystem.writeAtomically("1,2,3\n0,4\n", to: path)
        #expect(throws: DataLoadError("\(path):2: 2 fields, expected 3")) {
            try DataLoader.load(path: path, format: .csv)
        }
    }

    @Test func parametersTakeLightGBMNamesAndXGBoostAliases() throws {
        var p = TrainingParams()
        try p.apply([
            "eta=0.05", "max_leaves=63", "subsample=0.8", "colsample_bytree=0.5", "reg_lambda=2", "n_estimators=300",
            "objective=reg:squarederror", "metric=rmse",
        ])
        #expect(p.learningRate == 0.05 && p.numLeaves == 63 && p.baggingFraction == 0.8 && p.featureFraction == 0.5)
        #expect(p.lambdaL2 == 2 && p.numIterations == 300 && p.objective == .regression && p.metrics == [.rmse])
        do {
            try p.apply(["num_leafs=3"])
            Issue.record("accepted an unknown parameter")
        } catch {
            #expect(error.description.hasPrefix("unknown parameter 'num_leafs'"))
        }
        #expect(throws: TrainingParams.ParseError.self) { try p.apply(["num_leaves=1"]) }
        #expect(throws: TrainingParams.ParseError.self) { try p.apply(["learning_rate"]) }
    }

    @Test func binsSplitValuesExactlyAtTheirBounds() {
        var rng = SeededRandom(seed: 4)
        let sample = (0..<5000).map { _ in rng.bernoulli(0.05) ? Float.nan : Float(rng.normal()) }
        let mapper = BinMapper(sample: sample, maxBin: 63)
        #expect(mapper.valueBins <= 63 && mapper.sawMissing)
        #expect(mapper.bin(.nan) == 0)
        for x in sample.prefix(2000) where !x.isNaN {
            let b = Int(mapper.bin(x))
            #expect(b >= 1 && x <= mapper.upperBounds[b - 1])
            if b > 1 { #expect(x > mapper.upperBounds[b - 2]) }
        }
        let few = BinMapper(sample: [3, 1, 2, 2, 1, 3], maxBin: 255)
        #expect(few.valueBins == 3 && !few.isTrivial)
        #expect(BinMapper(sample: [7, 7, 7], maxBin: 255).isTrivial)
        #expect(!BinMapper(sample: [7, .nan, 7], maxBin: 255).isTrivial)
    }
}
