import Foundation
import FsmlCore

/// The fixed cast of a generated clickstream, drawn once from the seed: product categories with
/// their price levels, products with Zipf popularity and a latent appeal, users with heterogeneous
/// activity, purchase propensity, home country and device.
struct World: Sendable {
    struct Category {
        let name: String
        let medianPrice: Double
        let priceSigma: Double
        let share: Double
    }

    struct Country {
        let code: String
        let currency: String
        let cities: [String]
        let share: Double
    }

    struct Product {
        let id: String
        let category: Int
        /// Price in cents.
        let cents: Int
        /// Latent attractiveness: raises the add-to-cart rate.
        let appeal: Double
        /// log(price / category median): dearer than usual lowers the rate.
        let relativePrice: Double
    }

    struct User {
        let id: String
        /// Latent log-odds shift of carting and buying.
        let propensity: Double
        let country: Int
        let city: Int
        let mobileShare: Double
        let mobileOS: Int
        let desktopOS: Int
    }

    static let categories: [Category] = [
        Category(name: "electronics", medianPrice: 149, priceSigma: 0.9, share: 0.14),
        Category(name: "books", medianPrice: 14, priceSigma: 0.4, share: 0.10),
        Category(name: "fashion", medianPrice: 39, priceSigma: 0.6, share: 0.16),
        Category(name: "home", medianPrice: 59, priceSigma: 0.8, share: 0.11),
        Category(name: "beauty", medianPrice: 24, priceSigma: 0.5, share: 0.09),
        Category(name: "sports", medianPrice: 49, priceSigma: 0.7, share: 0.08),
        Category(name: "toys", medianPrice: 29, priceSigma: 0.6, share: 0.07),
        Category(name: "grocery", medianPrice: 7, priceSigma: 0.5, share: 0.08),
        Category(name: "garden", medianPrice: 34, priceSigma: 0.7, share: 0.05),
        Category(name: "auto", medianPrice: 44, priceSigma: 0.9, share: 0.04),
        Category(name: "music", medianPrice: 19, priceSigma: 0.5, share: 0.04),
        Category(name: "pets", medianPrice: 21, priceSigma: 0.6, share: 0.04),
    ]

    static let countries: [Country] = [
        Country(code: "DE", currency: "EUR", cities: ["Berlin", "Munich", "Hamburg", "Cologne"], share: 0.26),
        Country(code: "FR", currency: "EUR", cities: ["Paris", "Lyon", "Marseille"], share: 0.15),
        Country(code: "GB", currency: "GBP", cities: ["London", "Manchester", "Leeds"], share: 0.14),
        Country(code: "US", currency: "USD", cities: ["New York", "Chicago", "Austin", "Seattle"], share: 0.18),
        Country(code: "ES", currency: "EUR", cities: ["Madrid", "Barcelona", "Valencia"], share: 0.08),
        Country(code: "IT", currency: "EUR", cities: ["Rome", "Milan", "Turin"], share: 0.08),
        Country(code: "NL", currency: "EUR", cities: ["Amsterdam", "Rotterdam"], share: 0.06),
        Country(code: "PL", currency: "PLN", cities: ["Warsaw", "Krakow"], share: 0.05),
    ]

    static let mobileOS = ["iOS", "Android"]
    static let desktopOS = ["Windows", "macOS", "Linux"]

    /// Relative traffic by UTC hour: a night trough and an evening peak.
    static let hourlyTraffic: [Double] = [
        0.30, 0.18, 0.12, 0.09, 0.09, 0.13, 0.26, 0.46, 0.66, 0.80, 0.90, 0.95,
        1.00, 0.96, 0.91, 0.90, 0.95, 1.05, 1.22, 1.38, 1.42, 1.26, 0.92, 0.55,
    ]

    let products: [Product]
    let users: [User]
    let productDraw: AliasTable
    let productDrawByCategory: [AliasTable]
    let productsByCategory: [[Int32]]
    let userDraw: AliasTable
    let categoryDraw: AliasTable

    init(config: GeneratorConfig) {
        var rng = SeededRandom(seed: config.seed, stream: 0xC0FFEE)
        let categoryDraw = AliasTable(weights: World.categories.map(\.share))
        // Popularity follows Zipf over a random ranking of the catalogue.
        var ranks = Array(0..<config.products)
        for i in stride(from: ranks.count - 1, to: 0, by: -1) { ranks.swapAt(i, rng.below(i + 1)) }
        var products: [Product] = []
        products.reserveCapacity(config.products)
        var popularity: [Double] = []
        for i in 0..<config.products {
            let c = categoryDraw.draw(&rng)
            let cat = World.categories[c]
            var price = rng.lognormal(mu: log(cat.medianPrice), sigma: cat.priceSigma)
            price = min(max(price, 0.5), 5000)
            // Shop prices end in .99, .49 or .00.
            let endings = [99, 49, 0, 99]
            let cents = Int(price) * 100 + endings[rng.below(endings.count)]
            let appeal = rng.normal() * 0.65
            products.append(
                Product(
                    id: "sku_\(10_000 + i)", category: c, cents: max(cents, 49), appeal: appeal,
                    relativePrice: log(Double(max(cents, 49)) / 100 / cat.medianPrice)))
            // More appealing products are also viewed somewhat more.
            popularity.append(pow(Double(ranks[i] + 1), -1.07) * exp(0.25 * appeal))
        }
        var byCategory = [[Int32]](repeating: [], count: World.categories.count)
        for (i, p) in products.enumerated() { byCategory[p.category].append(Int32(i)) }
        let countryDraw = AliasTable(weights: World.countries.map(\.share))
        var users: [User] = []
        users.reserveCapacity(config.users)
        var activity: [Double] = []
        for i in 0..<config.users {
            let country = countryDraw.draw(&rng)
            let mobile = rng.bernoulli(0.6)
            users.append(
                User(
                    id: "u_\(10_000 + i)", propensity: rng.normal() * 0.85, country: country,
                    city: rng.below(World.countries[country].cities.count), mobileShare: mobile ? 0.88 : 0.12,
                    mobileOS: rng.bernoulli(0.45) ? 0 : 1,
                    desktopOS: rng.uniform() < 0.7 ? 0 : (rng.bernoulli(0.75) ? 1 : 2)))
            // Heavy-tailed activity: a few users make many sessions.
            activity.append(rng.lognormal(mu: 0, sigma: 1.1))
        }
        self.products = products
        self.users = users
        self.categoryDraw = categoryDraw
        productDraw = AliasTable(weights: popularity)
        productsByCategory = byCategory
        productDrawByCategory = byCategory.map { members in
            members.isEmpty ? AliasTable(weights: [1]) : AliasTable(weights: members.map { popularity[Int($0)] })
        }
        userDraw = AliasTable(weights: activity)
    }

    /// Traffic weight of the hour starting at `t` (weekends are busier).
    static func trafficWeight(at t: Micros) -> Double {
        let day = Int(Timestamp.floorDiv(t, Timestamp.microsPerDay))
        let hour = Int(Timestamp.floorDiv(t, Timestamp.microsPerHour) - Int64(day) * 24)
        let weekday = ((day % 7) + 7 + 3) % 7  // 1970-01-01 was a Thursday; 0 = Monday
        return hourlyTraffic[hour] * (weekday >= 5 ? 1.15 : 1.0)
    }
}
