// swift-tools-version:6.0
import PackageDescription

// Every target shares one set of settings, as swift-nio's Package.swift does.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "fsml",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fsml", targets: ["fsml"]),
        .library(name: "FeatureCore", targets: ["FeatureCore"]),
        .library(name: "FeatureConfig", targets: ["FeatureConfig"]),
        .library(name: "OnlineStorage", targets: ["OnlineStorage"]),
        .library(name: "OfflineStorage", targets: ["OfflineStorage"]),
        .library(name: "PointInTime", targets: ["PointInTime"]),
        .library(name: "Streaming", targets: ["Streaming"]),
        .library(name: "GBDT", targets: ["GBDT"]),
        .library(name: "Tracking", targets: ["Tracking"]),
        .library(name: "Serving", targets: ["Serving"]),
        .library(name: "Workflows", targets: ["Workflows"]),
        // The library to embed: open a project, fold events, read features, build datasets, score.
        .library(name: "FSML", targets: ["FSML"]),
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // `make docs`: the DocC catalog of the FSML library.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
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

        // The one thing Swift cannot say: prefetching, in the histogram builder's gather.
        .target(name: "CPrefetch"),
        // Utilities with no domain knowledge: hashing, gzip, time text, JSON text, parallel loops.
        .target(name: "FsmlCore", dependencies: ["CZlib"], swiftSettings: swiftSettings),
        // The pure core: definitions, event parsing, admission, the window rule, aggregators, the
        // engine that folds and reads, the state codec. No I/O, no C library.
        .target(name: "FeatureCore", dependencies: ["FsmlCore"], swiftSettings: swiftSettings),
        // fsml.yaml read into a FeatureRegistry, with errors that name file, line and key.
        .target(
            name: "FeatureConfig", dependencies: ["FeatureCore", "FsmlCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        // Online stores behind one protocol: Redis (hiredis), SQLite, memory.
        .target(
            name: "OnlineStorage", dependencies: ["FeatureCore", "FsmlCore", "CHiredis", "CSQLite3"],
            swiftSettings: swiftSettings),
        // The offline store of admitted events (Parquet by event date), the intake that admits them
        // and the reject logs: shared by the stream job and batch ingest.
        .target(
            name: "OfflineStorage", dependencies: ["FeatureCore", "FsmlCore", "Parquet"], swiftSettings: swiftSettings),
        // Synthetic clickstream for demos, tests and benchmarks.
        .target(name: "EventGenerator", dependencies: ["FsmlCore"], swiftSettings: swiftSettings),
        // Parquet files: Thrift compact metadata, PLAIN and dictionary encodings, three codecs.
        .target(name: "Parquet", dependencies: ["FsmlCore"], swiftSettings: swiftSettings),
        .target(
            name: "PointInTime", dependencies: ["FeatureCore", "FsmlCore", "OfflineStorage", "Parquet"],
            swiftSettings: swiftSettings),
        .target(
            name: "Streaming",
            dependencies: [
                "FeatureCore", "FsmlCore", "OnlineStorage", "OfflineStorage", "CRdKafka", "CZlib",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "GBDT", dependencies: ["FsmlCore", "CPrefetch", "CCBLAS", "CLAPACKE"], swiftSettings: swiftSettings),
        .target(name: "Tracking", dependencies: ["FsmlCore", "GBDT"], swiftSettings: swiftSettings),
        .target(
            name: "Serving",
            dependencies: [
                "FeatureCore", "FsmlCore", "OnlineStorage", "GBDT", "Tracking",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], swiftSettings: swiftSettings),
        .target(
            name: "Workflows",
            dependencies: [
                "FeatureCore", "FeatureConfig", "FsmlCore", "GBDT", "OfflineStorage", "OnlineStorage", "Parquet",
                "PointInTime", "Tracking",
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "FSML",
            dependencies: [
                "FeatureCore", "FeatureConfig", "FsmlCore", "GBDT", "OfflineStorage", "OnlineStorage", "PointInTime",
                "Tracking", "Workflows",
            ],
            swiftSettings: swiftSettings),
        // Examples/: programs that embed the library, built and run by the tests.
        .executableTarget(
            name: "FeatureServerExample",
            dependencies: ["FSML", .product(name: "Hummingbird", package: "hummingbird")],
            path: "Examples/FeatureServer", swiftSettings: swiftSettings),
        .executableTarget(
            name: "fsml",
            dependencies: [
                "FsmlCore", "FeatureCore", "FeatureConfig", "OnlineStorage", "OfflineStorage", "EventGenerator",
                "PointInTime", "Streaming", "GBDT", "Tracking", "Serving", "Parquet", "Workflows",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        // What the fuzzer (Fuzz/, `make fuzz`) runs, and the tests replay: each parser of untrusted
        // bytes with its invariants.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "FsmlCore", "FeatureCore", "FeatureConfig", "OfflineStorage", "Parquet", "GBDT", "Serving",
            ],
            swiftSettings: swiftSettings),

        // Oracles and fixtures shared by the test targets.
        .target(
            name: "FsmlTestSupport", dependencies: ["FeatureCore", "FeatureConfig", "OfflineStorage", "FsmlCore"],
            path: "Tests/FsmlTestSupport",
            swiftSettings: swiftSettings),
        .testTarget(name: "FsmlCoreTests", dependencies: ["FsmlCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FeatureCoreTests", dependencies: ["FeatureCore", "FeatureConfig", "FsmlCore", "FsmlTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FeatureConfigTests", dependencies: ["FeatureConfig", "FeatureCore", "FsmlCore", "FsmlTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OfflineStorageTests",
            dependencies: ["OfflineStorage", "FeatureCore", "EventGenerator", "FsmlCore", "FsmlTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OnlineStorageTests",
            dependencies: ["OnlineStorage", "FeatureCore", "FeatureConfig", "FsmlCore", "FsmlTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "EventGeneratorTests", dependencies: ["EventGenerator", "FeatureCore", "FeatureConfig", "FsmlCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ParquetTests", dependencies: ["Parquet", "FsmlCore"], exclude: ["Fixtures/make_fixtures.py"],
            resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(
            name: "PointInTimeTests",
            dependencies: [
                "PointInTime", "OfflineStorage", "Parquet", "FeatureCore", "FeatureConfig", "EventGenerator",
                "FsmlTestSupport", "FsmlCore",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StreamingTests",
            dependencies: [
                "Streaming", "OnlineStorage", "OfflineStorage", "FeatureCore", "FeatureConfig", "EventGenerator",
                "FsmlTestSupport", "FsmlCore",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "GBDTTests", dependencies: ["GBDT", "FsmlCore"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServingTests",
            dependencies: [
                "Serving", "Tracking", "GBDT", "FeatureCore", "FeatureConfig", "OnlineStorage", "FsmlCore",
                "FsmlTestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TrackingTests", dependencies: ["Tracking", "GBDT", "FsmlCore"], exclude: ["Golden"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FSMLTests",
            dependencies: [
                "FSML", "FeatureCore", "FeatureConfig", "FsmlCore", "FsmlTestSupport", "EventGenerator", "GBDT",
                "OnlineStorage", "Tracking", "FeatureServerExample",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "WorkflowsTests",
            dependencies: ["Workflows", "GBDT", "FsmlCore", "Tracking", "PointInTime", "FsmlTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "FeatureCore", "FeatureConfig", "GBDT", "Parquet"],
            swiftSettings: swiftSettings),
        // Runs the built binary: depends on it so that `swift build --build-tests` builds it.
        .testTarget(
            name: "fsmlTests",
            dependencies: [
                "fsml", "FsmlCore", "FeatureCore", "FeatureConfig", "OnlineStorage", "OfflineStorage", "PointInTime",
                "Tracking", "Serving", "Streaming", "GBDT", "FsmlTestSupport",
            ],
            exclude: ["Golden"],
            swiftSettings: swiftSettings),
    ]
)
