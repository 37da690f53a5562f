// swift-tools-version:6.1
import Foundation
import PackageDescription

/// Built-in plugins are compiled for this CPU (`-target-cpu`): by default the build machine's own
/// ("native": AVX2/AVX-512 where present; the 16M-parameter Adam step goes from 32 to 13 ms),
/// since plugins are built where they run. Set GRADUS_TARGET_CPU=x86-64 (or any LLVM CPU name)
/// for plugins that must run on other machines, or to "" for the compiler's default. The host
/// libraries keep the default target (measured: no gain, and products with unsafe flags cannot
/// be used from other packages); the SDK's kit stays flag-free for the same reason.
let targetCPU = ProcessInfo.processInfo.environment["GRADUS_TARGET_CPU"] ?? "native"
let cpuSettings: [SwiftSetting] = targetCPU.isEmpty ? [] : [.unsafeFlags(["-target-cpu", targetCPU])]

/// One built-in plugin: a dynamic library product loaded at run time, never linked by `Sources/`.
func builtinPlugin(_ name: String, kind: String) -> (Product, Target) {
    (
        .library(name: "GradusPlugin\(name)", type: .dynamic, targets: ["Plugin\(name)"]),
        .target(
            name: "Plugin\(name)",
            dependencies: ["GradusPluginKit"],
            path: "Plugins/\(kind)/\(name)",
            // A plugin exports its entry symbol and nothing else (docs/ABI.md).
            swiftSettings: cpuSettings,
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/SDK/plugin-exports.map"])]
        )
    )
}

let plugins = [
    builtinPlugin("SGD", kind: "Optimizers"),
    builtinPlugin("Adam", kind: "Optimizers"),
    builtinPlugin("SecondMoment", kind: "Optimizers"),
    builtinPlugin("SignAndTrust", kind: "Optimizers"),
    builtinPlugin("Orthogonal", kind: "Optimizers"),
    builtinPlugin("LowRank", kind: "Optimizers"),
    builtinPlugin("ScheduleFree", kind: "Optimizers"),
    builtinPlugin("LearningRateFree", kind: "Optimizers"),
    builtinPlugin("LayerNorm", kind: "Normalizers"),
    builtinPlugin("RMSNorm", kind: "Normalizers"),
    builtinPlugin("BatchNorm", kind: "Normalizers"),
    builtinPlugin("Magnitude", kind: "Pruners"),
    builtinPlugin("Schedules", kind: "Functions"),
]

/// libFuzzer targets (`Fuzz/run` builds them with GRADUS_FUZZ=1 and -sanitize=fuzzer,address in
/// their own build folder); they exist only then, so ordinary builds never see them.
let fuzzTargets: [Target] = ProcessInfo.processInfo.environment["GRADUS_FUZZ"] == nil ? [] :
    ["SafeTensorsHeader", "ArrayFileHeaders", "CSV", "TrainingConfig", "FunctionSignature", "Descriptor", "ELFSymbols"].map {
        .executableTarget(name: "fuzz-\($0)", dependencies: ["GradusRuntime", "CGradusABI", "FuzzSupport"], path: "Fuzz/Targets/\($0)")
    } + [.target(name: "FuzzSupport", path: "Fuzz/Support")]

let package = Package(
    name: "Gradus",
    products: [
        .executable(name: "gradus", targets: ["gradus"]),
        .library(name: "GradusPluginKit", targets: ["GradusPluginKit"]),
        .library(name: "GradusRuntime", targets: ["GradusRuntime"]),
    ] + plugins.map(\.0),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // The C ABI: headers only, in SDK/include/gradus.
        .systemLibrary(name: "CGradusABI", path: "SDK/include"),
        // The Swift plugin kit that plugin authors depend on.
        // Swift names for ABI constants (ParameterRole), shared by the kit and the host's models.
        .target(name: "GradusABITypes", dependencies: ["CGradusABI"], path: "SDK/Sources/GradusABITypes"),
        .target(name: "GradusPluginKit", dependencies: ["CGradusABI", "GradusABITypes", "GradusKitMath"], path: "SDK/Sources/GradusPluginKit",
                swiftSettings: [.swiftLanguageMode(.v6)]),
        // Inline math for plugin loops (a vectorisable square root).
        .target(name: "GradusKitMath", path: "SDK/Sources/GradusKitMath"),
        // System-library shims.
        .systemLibrary(name: "CFFI", path: "Sources/CFFI"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        // Async-signal-safe handlers of the host process (interrupts, crash reports).
        .target(name: "CGradusHost", path: "Sources/CGradusHost"),
        // Host side.
        .target(name: "GradusCore", dependencies: ["COpenBLAS"]),
        .target(name: "GradusNN", dependencies: ["GradusCore", "GradusABITypes"]),
        .target(name: "GradusRuntime", dependencies: ["CGradusABI", "CFFI", "CGradusHost", "CSQLite", "GradusCore", "GradusNN",
                                                      .product(name: "Yams", package: "Yams")],
                resources: [.copy("Resources")]),
        .executableTarget(
            name: "gradus",
            dependencies: ["GradusRuntime", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "gradus-bench", dependencies: ["GradusRuntime", "GradusNN", "GradusCore"], path: "Benchmarks/Swift"),
        // Tests, one target per layer; fixtures and helpers shared through GradusTestSupport.
        .target(name: "GradusTestSupport", dependencies: ["GradusRuntime"], path: "Tests/GradusTestSupport",
                resources: [.copy("Fixtures")]),
        .testTarget(name: "GradusCoreTests", dependencies: ["GradusCore"]),
        .testTarget(name: "GradusRuntimeTests", dependencies: ["GradusRuntime", "CGradusABI", "GradusTestSupport"]),
        .testTarget(name: "BuiltinPluginTests", dependencies: ["GradusRuntime", "GradusTestSupport"]),
        .testTarget(name: "GradusPluginKitTests", dependencies: ["GradusRuntime", "GradusPluginKit", "GradusTestSupport"]),
        .testTarget(name: "GradusCLITests", dependencies: ["GradusRuntime", "GradusCore", "GradusTestSupport"]),
    ] + plugins.map(\.1) + fuzzTargets,
    swiftLanguageModes: [.v5]
)
