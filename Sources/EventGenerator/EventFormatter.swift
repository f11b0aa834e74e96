import FsmlCore

/// Writes generated lines as JSON in DESIGN.md's event schema, straight into a byte buffer.
struct EventFormatter {
    let world: World
    private static let types = ["page_view", "add_to_cart", "purchase"].map { Array($0.utf8) }
    private static let hex = Array("0123456789abcdef".utf8)
    private let countryBytes: [[UInt8]]
    private let currencyBytes: [[UInt8]]
    private let cityBytes: [[[UInt8]]]
    private let productIDs: [[UInt8]]
    private let userIDs: [[UInt8]]

    init(world: World) {
        self.world = world
        countryBytes = World.countries.map { Array($0.code.utf8) }
        currencyBytes = World.countries.map { Array($0.currency.utf8) }
        cityBytes = World.countries.map { $0.cities.map { Array($0.utf8) } }
        productIDs = world.products.map { Array($0.id.utf8) }
        userIDs = world.users.map { Array($0.id.utf8) }
    }

    func append(_ line: GeneratedLine, to out: inout [UInt8]) {
        if line.kind == .malformed {
            appendMalformed(line, to: &out)
        } else {
            appendEvent(line, to: &out)
        }
        out.append(10)
    }

    private func appendEvent(
        _ line: GeneratedLine, to out: inout [UInt8], timestamp: [UInt8]? = nil, type: [UInt8]? = nil,
        price: [UInt8]? = nil, skipUser: Bool = false, emptyID: Bool = false
    ) {
        let user = world.users[Int(line.user)]
        let product = world.products[Int(line.product)]
        out.append(contentsOf: #"{"event_id":""#.utf8)
        if !emptyID {
            out.append(contentsOf: [UInt8(ascii: "e"), UInt8(ascii: "_")])
            appendHex(line.eventID, digits: 16, to: &out)
        }
        out.append(contentsOf: #"","event_ts":""#.utf8)
        if let timestamp { out.append(contentsOf: timestamp) } else { Timestamp.append(line.time, to: &out) }
        if !skipUser {
            out.append(contentsOf: #"","user_id":""#.utf8)
            out.append(contentsOf: userIDs[Int(line.user)])
        }
        out.append(contentsOf: #"","session_id":"s_"#.utf8)
        appendHex(line.sessionID, digits: 12, to: &out)
        out.append(contentsOf: #"","event_type":""#.utf8)
        out.append(contentsOf: type ?? Self.types[Int(line.eventType)])
        out.append(contentsOf: #"","product_id":""#.utf8)
        out.append(contentsOf: productIDs[Int(line.product)])
        out.append(contentsOf: #"","price":"#.utf8)
        if let price { out.append(contentsOf: price) } else { appendCents(product.cents, to: &out) }
        out.append(contentsOf: #","currency":""#.utf8)
        out.append(contentsOf: currencyBytes[user.country])
        out.append(contentsOf: #"","device":{"mobile":"#.utf8)
        out.append(contentsOf: line.mobile ? Array("true".utf8) : Array("false".utf8))
        out.append(contentsOf: #","os":""#.utf8)
        out.append(
            contentsOf: Array((line.mobile ? World.mobileOS[user.mobileOS] : World.desktopOS[user.desktopOS]).utf8))
        out.append(contentsOf: #""},"geo":{"country":""#.utf8)
        out.append(contentsOf: countryBytes[user.country])
        out.append(contentsOf: #"","city":""#.utf8)
        out.append(contentsOf: cityBytes[user.country][user.city])
        out.append(contentsOf: #""}}"#.utf8)
    }

    /// The faults a real pipeline meets: cut lines, bad times, bad values, missing fields, wrong
    /// types, bytes that are not UTF-8, empty ids, plain garbage.
    private func appendMalformed(_ line: GeneratedLine, to out: inout [UInt8]) {
        switch line.corruption {
        case 0:
            var full: [UInt8] = []
            appendEvent(line, to: &full)
            out.append(contentsOf: full.prefix(Int(line.eventID % UInt64(full.count - 1)) + 1))
        case 1:
            appendEvent(line, to: &out, timestamp: Array("2025-13-45T25:61:00Z".utf8))
        case 2:
            appendEvent(line, to: &out, timestamp: Array("2025-01-15T12:31:22.314".utf8))
        case 3:
            appendEvent(line, to: &out, price: Array("-12.5".utf8))
        case 4:
            appendEvent(line, to: &out, type: Array("click".utf8))
        case 5:
            appendEvent(line, to: &out, skipUser: true)
        case 6:
            appendEvent(line, to: &out, price: Array("\"29.90\"".utf8))
        default:
            // Not UTF-8 inside an id, then an empty id: two faults in one line, the first wins.
            appendEvent(line, to: &out, emptyID: line.eventID % 2 == 0)
            if line.eventID % 2 == 1, let at = out.lastIndex(of: UInt8(ascii: "_")) { out[at] = 0xFF }
        }
    }

    private func appendHex(_ v: UInt64, digits: Int, to out: inout [UInt8]) {
        for i in stride(from: digits - 1, through: 0, by: -1) { out.append(Self.hex[Int((v >> UInt64(4 * i)) & 15)]) }
    }

    private func appendCents(_ cents: Int, to out: inout [UInt8]) {
        out.append(contentsOf: Array(String(cents / 100).utf8))
        out.append(UInt8(ascii: "."))
        let c = cents % 100
        out.append(UInt8(ascii: "0") + UInt8(c / 10))
        out.append(UInt8(ascii: "0") + UInt8(c % 10))
    }
}
