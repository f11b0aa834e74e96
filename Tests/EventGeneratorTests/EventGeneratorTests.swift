import EventGenerator
import FeatureConfig
import FeatureCore
import FsmlCore
import Testing

@Suite struct EventGeneratorTests {
    static let registry = try! RegistryLoader.parse(ReferenceProject.yaml, file: "fsml.yaml")

    static func config(_ events: Int = 40_000) -> GeneratorConfig {
        var c = GeneratorConfig()
        c.events = events
        c.users = 500
        c.products = 300
        c.days = 3
        c.malformedFraction = 0.01
        return c
    }

    static func generate(
        _ c: GeneratorConfig, gzip: Bool = false, threads: Int = 2
    ) throws -> ([UInt8], GeneratorSummary) {
        var out: [UInt8] = []
        let s = try EventGenerator(config: c).run(gzip: gzip, threads: threads) { out.append(contentsOf: $0) }
        return (out, s)
    }

    @Test func theSameOptionsGiveTheSameBytesWhateverTheThreads() throws {
        let (one, _) = try Self.generate(Self.config(20_000), gzip: true, threads: 1)
        let (three, _) = try Self.generate(Self.config(20_000), gzip: true, threads: 3)
        #expect(one == three)
        var other = Self.config(20_000)
        other.seed = 43
        #expect(try Self.generate(other, gzip: true).0 != one)
        #expect(try Gzip.decompress(one) == Self.generate(Self.config(20_000)).0)
    }

    @Test func linesAreValidEventsExceptTheCorruptedOnes() throws {
        let (bytes, summary) = try Self.generate(Self.config())
        let parser = EventParser(schema: Self.registry.schema)
        var valid = 0
        var invalid = 0
        var types: [String: Int] = [:]
        let typeField = Self.registry.schema.index(of: "event_type")!
        for line in bytes.split(separator: 10) {
            switch Array(line).withUnsafeBytes({ parser.parse($0) }) {
            case .success(let e):
                valid += 1
                types[e.values[typeField].stringValue!, default: 0] += 1
            case .failure: invalid += 1
            }
        }
        #expect(summary.events == 40_000)
        #expect(valid == summary.events + summary.duplicates)
        #expect(invalid == summary.malformed)
        #expect(summary.malformed > 200)
        #expect(types["page_view"]! > types["add_to_cart"]!)
        #expect(types["add_to_cart"]! >= types["purchase"]!)
    }

    @Test func lateAndDuplicateShareFollowTheOptions() throws {
        let (bytes, summary) = try Self.generate(Self.config())
        let parser = EventParser(schema: Self.registry.schema)
        var admission = Admission(lateness: Self.registry.allowedLateness)
        var late = 0
        var dup = 0
        for line in bytes.split(separator: 10) {
            guard case .success(let e) = Array(line).withUnsafeBytes({ parser.parse($0) }) else { continue }
            switch admission.admit(id: e.id(in: Self.registry.schema), time: e.time) {
            case .late: late += 1
            case .duplicate: dup += 1
            case .admitted: break
            }
        }
        // About 2% of events are delayed, a third of those past the 10-minute lateness.
        #expect(Double(summary.delayed) / Double(summary.events) > 0.015)
        #expect(Double(summary.delayed) / Double(summary.events) < 0.025)
        #expect(late > summary.delayedBeyondLateness / 2 && late <= summary.delayedBeyondLateness + summary.duplicates)
        #expect(dup > summary.duplicates / 2 && dup <= summary.duplicates)
    }

    @Test func popularityIsSkewedAndCartingCarriesSignalFromDayToDay() throws {
        var c = Self.config(120_000)
        c.malformedFraction = 0
        c.days = 2
        let (bytes, _) = try Self.generate(c)
        let parser = EventParser(schema: Self.registry.schema)
        let s = Self.registry.schema
        let (typeF, productF) = (s.index(of: "event_type")!, s.index(of: "product_id")!)
        var views = [[String: Int]](repeating: [:], count: 2)
        var carts = [[String: Int]](repeating: [:], count: 2)
        let day0 = c.start
        for line in bytes.split(separator: 10) {
            guard case .success(let e) = Array(line).withUnsafeBytes({ parser.parse($0) }) else { continue }
            let d = Int((e.time - day0) / Timestamp.microsPerDay)
            guard d >= 0 && d < 2 else { continue }
            let p = e.values[productF].stringValue!
            switch e.values[typeF].stringValue! {
            case "page_view": views[d][p, default: 0] += 1
            case "add_to_cart": carts[d][p, default: 0] += 1
            default: break
            }
        }
        // Zipf: the top tenth of products draws far more than a tenth of the views.
        let counts = views[0].values.sorted(by: >)
        let top = counts.prefix(counts.count / 10).reduce(0, +)
        #expect(Double(top) / Double(counts.reduce(0, +)) > 0.35)
        // A product's add-to-cart rate on day 1 predicts its rate on day 2 (its appeal persists),
        // which is what makes prod_ctr_24h a useful feature.
        let popular = views[0].keys.filter { views[0][$0]! >= 60 && (views[1][$0] ?? 0) >= 60 }
        #expect(popular.count >= 20)
        let r0 = popular.map { Double(carts[0][$0] ?? 0) / Double(views[0][$0]!) }
        let r1 = popular.map { Double(carts[1][$0] ?? 0) / Double(views[1][$0]!) }
        #expect(correlation(r0, r1) > 0.4)
    }

    func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n
        let mb = b.reduce(0, +) / n
        var sab = 0.0
        var saa = 0.0
        var sbb = 0.0
        for i in a.indices {
            sab += (a[i] - ma) * (b[i] - mb)
            saa += (a[i] - ma) * (a[i] - ma)
            sbb += (b[i] - mb) * (b[i] - mb)
        }
        return sab / (saa * sbb).squareRoot()
    }
}
