import Testing

@testable import FsmlCore

/// Tail probabilities against values scipy computes (scipy.stats 1.17: chi2.sf, norm.sf, ks_2samp).
@Suite struct DistributionsTests {
    @Test func chiSquaredTailsMatchScipy() {
        for (x, df, expected) in [
            (7.3, 3, 0.06292623645904312), (0.5, 1, 0.47950012218695337), (40.0, 10, 1.694474393006737e-05),
            (3.0, 7, 0.8850022316431506),
        ] {
            let p = Distributions.chiSquaredUpperTail(x, df: df)
            #expect(abs(p - expected) <= 1e-10 * max(1, expected / 1e-5), "chi2(\(x), \(df)) = \(p)")
        }
        #expect(Distributions.chiSquaredUpperTail(0, df: 4) == 1)
    }

    @Test func normalTailMatchesScipy() {
        #expect(abs(Distributions.normalUpperTail(1.96) - 0.024997895148220435) < 1e-15)
        #expect(Distributions.normalUpperTail(0) == 0.5)
    }

    /// Kolmogorov's limit with Stephens' correction is an approximation: within a few percent of
    /// scipy's exact p-value, on either side of the 0.05 a drift test asks about.
    @Test func kolmogorovSmirnovPValuesAreCloseToScipys() {
        let small = Distributions.kolmogorovSmirnovPValue(0.3, n: 100, m: 80)
        #expect(abs(small - 0.0005077934689081804) < 0.0002)
        let large = Distributions.kolmogorovSmirnovPValue(0.07, n: 1000, m: 900)
        #expect(abs(large - 0.018210035807695046) < 0.002)
        #expect(Distributions.kolmogorovSmirnovPValue(0, n: 50, m: 50) == 1)
    }
}
