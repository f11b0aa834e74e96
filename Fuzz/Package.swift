// swift-tools-version:6.0
import PackageDescription

// The fuzzer: one libFuzzer executable over fsml's FuzzTargets, built apart from fsml because
// every module in it is instrumented (`make fuzz` builds it with --sanitize=fuzzer,address).
let package = Package(
    name: "fsml-fuzz",
    dependencies: [.package(name: "fsml", path: "..")],
    targets: [
        .executableTarget(
            name: "fsml-fuzz", dependencies: [.product(name: "FuzzTargets", package: "fsml")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")])
    ]
)
