// swift-tools-version:6.0
import PackageDescription

// Every target shares one set of settings, as hummingbird's Package.swift does.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "fsml",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fsml", targets: ["fsml"]),
        .library(name: "FeatureStore", targets: ["FeatureStore"]),
        .library(name: "PointInTime", targets: ["PointInTime"]),
        .library(name: "Streaming", targets: ["Streaming"]),
        .library(name: "GBDT", targets: ["GBDT"]),
        .library(name: "Tracking", targets: ["Tracking"]),
        .library(name: "Serving", targets: ["Serving"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // C libraries from Debian, as system-library targets (../shared/TOOLCHAIN.md §2).
        .systemLibrary(
            name: "CHiredis", path: "Sources/CHiredis", pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CSQLite3", path: "Sources/CSQLite3", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CCBLAS", path: "Sources/CCBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(
            name: "CRdKafka", path: "Sources/CRdKafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),

        // The one loop that needs what Swift cannot say: prefetching in histogram building.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Utilities with no domain knowledge: hashing, gzip, time text, JSON text, parallel loops.
        .target(name: "FsmlCore", dependencies: ["CZlib"], swiftSettings: swiftSettings),
        // Definitions, event parsing, the time engine, online stores.
        .target(
            name: "FeatureStore",
            dependencies: ["FsmlCore", "CHiredis", "CSQLite3", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        // Synthetic clickstream for demos, tests and benchmarks.
        .target(name: "EventGenerator", dependencies: ["FsmlCore"], swiftSettings: swiftSettings),
        // Parquet files: Thrift compact metadata, PLAIN and dictionary encodings, three codecs.
        .target(name: "Parquet", dependencies: ["FsmlCore"], swiftSettings: swiftSettings),
        .target(name: "PointInTime", dependencies: ["FeatureStore", "Parquet"], swiftSettings: swiftSettings),
        .target(
            name: "Streaming", dependencies: ["FeatureStore", "PointInTime", "CRdKafka"], swiftSettings: swiftSettings),
        .target(
            name: "GBDT", dependencies: ["FsmlCore", "CKernels", "CCBLAS", "CLAPACKE"], swiftSettings: swiftSettings),
        .target(name: "Tracking", dependencies: ["FsmlCore", "GBDT"], swiftSettings: swiftSettings),
        .target(
            name: "Serving",
            dependencies: [
                "FeatureStore", "GBDT", "Tracking", "Streaming", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ], swiftSettings: swiftSettings),
        .executableTarget(
            name: "fsml",
            dependencies: [
                "FsmlCore", "FeatureStore", "EventGenerator", "PointInTime", "Streaming", "GBDT", "Tracking",
                "Serving", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings),

        // Oracles and fixtures shared by the test targets.
        .target(
            name: "FsmlTestSupport", dependencies: ["FeatureStore", "FsmlCore"], path: "Tests/FsmlTestSupport",
            swiftSettings: swiftSettings),
        .testTarget(name: "FsmlCoreTests", dependencies: ["FsmlCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FeatureStoreTests", dependencies: ["FeatureStore", "EventGenerator", "FsmlTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "EventGeneratorTests", dependencies: ["EventGenerator", "FeatureStore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ParquetTests", dependencies: ["Parquet", "FsmlCore"], exclude: ["Fixtures/make_fixtures.py"],
            resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(
            name: "PointInTimeTests",
            dependencies: ["PointInTime", "Parquet", "FeatureStore", "EventGenerator", "FsmlTestSupport", "FsmlCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StreamingTests",
            dependencies: [
                "Streaming", "PointInTime", "FeatureStore", "EventGenerator", "FsmlTestSupport", "FsmlCore",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "GBDTTests", dependencies: ["GBDT", "FsmlCore"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServingTests",
            dependencies: ["Serving", "Tracking", "GBDT", "FeatureStore", "FsmlCore", "FsmlTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TrackingTests", dependencies: ["Tracking", "GBDT", "FsmlCore"], exclude: ["Golden"],
            swiftSettings: swiftSettings),
        // Runs the built binary: depends on it so that `swift build --build-tests` builds it.
        .testTarget(
            name: "fsmlTests",
            dependencies: [
                "fsml", "FsmlCore", "FeatureStore", "PointInTime", "Tracking", "Serving", "GBDT", "FsmlTestSupport",
            ],
            exclude: ["Golden"],
            swiftSettings: swiftSettings),
    ]
)
