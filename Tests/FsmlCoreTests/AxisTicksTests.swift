import Testing

@testable import FsmlCore

@Suite struct AxisTicksTests {
    @Test func aNarrowRangeGetsDistinctLabelsOnRoundNumbers() {
        // The learning curve that read "0.833" on every tick.
        let t = AxisTicks(data: 0.8331...0.8342)
        #expect(t.step == 0.0005)
        #expect(t.decimals == 4)
        let labels = t.values.map(t.label)
        #expect(labels == ["0.8330", "0.8335", "0.8340", "0.8345"])
        #expect(Set(labels).count == labels.count)
    }

    @Test func iterationsTickOnWholeNumbers() {
        let t = AxisTicks(data: 1...100)
        #expect(t.step == 20)
        #expect(t.values == [0, 20, 40, 60, 80, 100])
        #expect(t.values.map(t.label) == ["0", "20", "40", "60", "80", "100"])
    }

    @Test func wholeNumbersTickOnWholeNumbers() {
        let t = AxisTicks(data: 1...2, integers: true)
        #expect(t.values.map(t.label) == ["1", "2"])
    }

    @Test func aFixedUnitRangeKeepsItsBounds() {
        let t = AxisTicks(fixed: 0...1)
        #expect(t.range == 0...1)
        #expect(t.values.map(t.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }

    @Test func nonNegativeDataNeverTicksBelowZero() {
        // Latencies: the serve-load chart's axis started below zero.
        let t = AxisTicks(data: 0.31...4.7, floorAtZero: true)
        #expect(t.range.lowerBound == 0)
        #expect(t.values.first == 0)
        let one = AxisTicks(data: 0...0, floorAtZero: true)
        #expect(one.range.lowerBound == 0 && one.range.upperBound > 0)
    }

    @Test func aSingleValueIsWidenedAroundIt() {
        let t = AxisTicks(data: 0.5...0.5)
        #expect(t.range.lowerBound < 0.5 && t.range.upperBound > 0.5)
        #expect(Set(t.values.map(t.label)).count == t.values.count)
    }

    @Test func largeValuesAreShortened() {
        let t = AxisTicks(data: 0...4_000_000)
        #expect(t.values.map(t.label) == ["0", "1M", "2M", "3M", "4M"])
    }
}
