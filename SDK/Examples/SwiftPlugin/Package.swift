// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "LionPlugin",
    products: [.library(name: "Lion", type: .dynamic, targets: ["Lion"])],
    dependencies: [.package(name: "Gradus", path: "../../..")],
    targets: [.target(name: "Lion", dependencies: [.product(name: "GradusPluginKit", package: "Gradus")])]
)
