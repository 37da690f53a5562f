// swift-tools-version:6.1
// An optimizer plugin written in Swift, built outside the Gradus tree.
// A third party depends on Gradus by URL, e.g.
//     .package(url: "https://github.com/<org>/gradus", from: "0.1.0")
// This in-repository copy points at the checkout instead so the tests can build it.
import PackageDescription

let package = Package(
    name: "LionPlugin",
    products: [.library(name: "Lion", type: .dynamic, targets: ["Lion"])],
    dependencies: [.package(name: "Gradus", path: "../../..")],
    targets: [.target(name: "Lion", dependencies: [.product(name: "GradusPluginKit", package: "Gradus")])],
    swiftLanguageModes: [.v5]
)
