import Testing

@testable import PointInTime

/// Drift tests against values scipy computes (wasserstein_distance, jensenshannon, chisquare) and
/// hand-computed cases; the choice of test by size and type as Evidently makes it.
@Suite struct DriftTests {
    @Test func distancesMatchScipy() {
        #expect(abs(Drift.wasserstein([0, 1, 3], [5, 6, 8]) - 5) < 1e-12)
        #expect(abs(Drift.wasserstein([1, 2, 2, 7], [0, 3, 3.5]) - 1.75) < 1e-12)
        #expect(abs(Drift.jensenShannon([50, 30, 20], [20, 30, 50]) - 0.25770974832606103) < 1e-12)
        // Empty cells get a tiny share: close to scipy's value, which lets them be zero.
        #expect(abs(Drift.jensenShannon([10, 0, 5], [8, 4, 0]) - 0.48067562886696097) < 0.01)
        #expect(abs(Drift.chiSquaredPValue([50, 30, 20], [20, 30, 50]) - 2.087967911645931e-14) < 1e-16)
    }

    @Test func theTestIsChosenBySizeAndType() {
        let few = (0..<500).map { Double($0 % 97) }
        let many = (0..<5000).map { Double($0 % 997) }
        #expect(Drift.compare(column: "x", reference: .numbers(few), current: .numbers(few)).test == .kolmogorovSmirnov)
        #expect(Drift.compare(column: "x", reference: .numbers(many), current: .numbers(many)).test == .wasserstein)
        // Five distinct numbers are categories.
        let flags = (0..<500).map { Double($0 % 2) }
        #expect(Drift.compare(column: "x", reference: .numbers(flags), current: .numbers(flags)).test == .zTest)
        let os = (0..<500).map { ["iOS", "Android", "Windows"][$0 % 3] as String? }
        #expect(Drift.compare(column: "os", reference: .categories(os), current: .categories(os)).test == .chiSquared)
        let manyOS = (0..<5000).map { ["iOS", "Android", "Windows"][$0 % 3] as String? }
        let r = Drift.compare(column: "os", reference: .categories(manyOS), current: .categories(manyOS))
        #expect(r.test == .jensenShannon && !r.drifted)
    }

    @Test func aTwoProportionZTestByHand() {
        // 60 % "a" against 45 %: z = 0.15 / sqrt(0.525 · 0.475 · 0.02) = 2.12398, p = 0.033672.
        let ref = Array(repeating: "a", count: 60) + Array(repeating: "b", count: 40)
        let cur = Array(repeating: "a", count: 45) + Array(repeating: "b", count: 55)
        let r = Drift.compare(column: "c", reference: .categories(ref), current: .categories(cur))
        #expect(r.test == .zTest && abs(r.statistic - 0.03367206885634588) < 1e-9 && r.drifted)
    }

    @Test func aShiftedNumberDriftsAndTheSameDoesNot() {
        let ref = (0..<3000).map { Double($0) / 3000 }
        let same = Drift.compare(column: "x", reference: .numbers(ref), current: .numbers(ref))
        #expect(same.statistic == 0 && !same.drifted)
        // Shifted by 0.1 of a uniform's range: W = 0.1, over its std 1/sqrt(12) = 0.3464.
        let shifted = Drift.compare(column: "x", reference: .numbers(ref), current: .numbers(ref.map { $0 + 0.1 }))
        #expect(abs(shifted.statistic - 0.1 / (1 / 12.0).squareRoot()) < 1e-3 && shifted.drifted)
    }

    /// The loudest drift: a feature 15 % missing in training and 100 % when served.
    @Test func aFeatureThatVanishesIsNeverOK() {
        let ref = (0..<2000).map { $0 % 7 == 0 ? Double.nan : Double($0) }
        let r = Drift.compare(
            column: "sess_duration_s", reference: .numbers(ref), current: .numbers(Array(repeating: .nan, count: 400)))
        #expect(r.vanished && r.drifted)
        #expect(r.reasons == ["no value in the current data", "missing 14.3 % → 100.0 %"])
        #expect(r.currentMissingRate == 1)
    }
}
