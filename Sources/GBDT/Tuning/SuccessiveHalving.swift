/// Successive halving over boosting rounds, decided the way Optuna's `SuccessiveHalvingPruner`
/// decides (asynchronous successive halving, Li et al. 2018), but in trial order so that it never
/// depends on timing: a trial trains to the rounds of rung 0, 1, ... (Hyperband's `R / eta^k` for
/// full rounds R, down to `minRounds`); at each rung below the last it goes on only if its value is in the top 1/eta of
/// the values at that rung of the trials numbered up to it (itself included). With fewer than eta
/// such values, only the best goes on.
public struct SuccessiveHalving: Sendable, Equatable {
    public var eta: Int
    public var minRounds: Int
    public var maxRounds: Int

    public init(eta: Int = 3, minRounds: Int, maxRounds: Int) {
        self.eta = max(2, eta)
        self.minRounds = max(1, min(minRounds, maxRounds))
        self.maxRounds = maxRounds
    }

    /// The default smallest rung: the full rounds over eta³, at least 10 rounds (four rungs with eta 3).
    public static func defaultMinRounds(maxRounds: Int, eta: Int) -> Int {
        max(min(10, maxRounds), maxRounds / (eta * eta * eta))
    }

    /// Rounds at each rung, increasing: R / eta^k (whole rounds) for full rounds R while at least
    /// `minRounds`; the last is R. 500 rounds, eta 3, 18 at least: 18, 55, 166, 500.
    public var rungs: [Int] {
        var r = [maxRounds]
        var x = maxRounds / eta
        while x >= minRounds && x >= 1 {
            r.append(x)
            x /= eta
        }
        return r.reversed()
    }

    /// Whether `value` goes on from a rung where `competing` holds the values there of the trials
    /// numbered up to this one (its own value included).
    public func promotes(_ value: Double, competing: [Double], higherIsBetter: Bool) -> Bool {
        guard !value.isNaN else { return false }
        let sorted = competing.filter { !$0.isNaN }.sorted { higherIsBetter ? $0 > $1 : $0 < $1 }
        let index = max(0, sorted.count / eta - 1)
        guard index < sorted.count else { return true }
        let threshold = sorted[index]
        return higherIsBetter ? value >= threshold : value <= threshold
    }
}
