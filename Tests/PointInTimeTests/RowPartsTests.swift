import FeatureCore
import FsmlCore
import Testing

@testable import PointInTime

/// The parts a labelled build assembles its rows from: labels by an outcome index, and rows that
/// wait for both their values and their event's fields.
@Suite struct RowPartsTests {
    /// Random examples and outcomes over a few keys: the index answers as a scan of all outcomes.
    @Test(arguments: 0..<6)
    func outcomeIndexAnswersAsAScan(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed))
        let keys: [String?] = ["a", "b", "c", "d:e", nil]
        let examples = (0..<400).map { _ in (key: keys[random.below(keys.count)], time: Micros(random.below(1000))) }
        let outcomes = (0..<300).map { _ in (key: keys[random.below(4)]!, time: Micros(random.below(1000))) }
        let index = OutcomeIndex(exampleKeys: examples.map(\.key), outcomes: outcomes)
        for (k, x) in examples.enumerated() {
            let within = Micros(random.below(60))
            let want = x.key.map { key in
                outcomes.contains { $0.key == key && $0.time > x.time && $0.time <= x.time + within }
            }
            #expect(index.any(forExample: k, after: x.time, upTo: x.time + within) == (want ?? false))
        }
    }

    /// Values come in example order, fields in any order: each row leaves once it has both, in
    /// example order, with its own fields and values.
    @Test(arguments: 0..<4)
    func rowsLeaveInExampleOrderOnceComplete(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed))
        let count = 10_000
        var assembler = RowAssembler(width: 2)
        var fieldOrder = Array(0..<count)
        // Each example's event comes at most 50 places from its own (a replay as known at t).
        for i in fieldOrder.indices {
            let j = min(count - 1, i + random.below(50))
            fieldOrder.swapAt(i, j)
        }
        var left: [Int] = []
        var valuesIn = 0
        var fieldsIn = 0
        while left.count < count {
            if valuesIn < count && (fieldsIn == count || random.below(2) == 0) {
                let n = min(count - valuesIn, 1 + random.below(300))
                assembler.addValues((valuesIn..<valuesIn + n).flatMap { [Double($0), -Double($0)] })
                valuesIn += n
            } else if fieldsIn < count {
                let k = fieldOrder[fieldsIn]
                assembler.setContext(k, [.number(Double(k))])
                fieldsIn += 1
            }
            assembler.takeComplete { k, context, values in
                #expect(context == [.number(Double(k))])
                #expect(Array(values) == [Double(k), -Double(k)])
                left.append(k)
            }
        }
        #expect(left == Array(0..<count))
    }
}
