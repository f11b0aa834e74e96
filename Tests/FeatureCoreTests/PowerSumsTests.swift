import FsmlCore
import Testing

@testable import FeatureCore

/// The 128-bit path of n·Σa² − (Σa)² gives the bits of the big-integer one, on small and large
/// values, both signs, and sums at the edges of where it applies.
@Suite struct PowerSumsTests {
    @Test(arguments: 0..<4)
    func the128BitPathEqualsTheBigIntegerPath(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed))
        let magnitudes: [Double] = [0.01, 1, 1_000, 1e6, 1e9, 4e12]
        for round in 0..<300 {
            var p = PowerSums()
            let scale = magnitudes[round % magnitudes.count]
            for _ in 0..<(1 + Int(random.next() % 40)) {
                let x = (random.uniform() - (round % 3 == 0 ? 0.5 : 0)) * scale
                p.add(.number((x * 1e6).rounded() / 1e6), order: 2)
            }
            let big = p.n2.double
            #expect(p.n2Double.bitPattern == big.bitPattern, "round \(round): \(p.n2Double) vs \(big)")
        }
    }

    @Test func valuesBeyondTheFastPathStillAgree() {
        var p = PowerSums()
        // Σa² beyond 2⁹⁴: the big-integer path answers.
        for x in [9e12, 8.9e12, -9e12] { p.add(.number(x), order: 2) }
        #expect(p.n2Double.bitPattern == p.n2.double.bitPattern)
        #expect(p.n2Double > 0)
    }
}
