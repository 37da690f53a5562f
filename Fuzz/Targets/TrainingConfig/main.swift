// libFuzzer target: a YAML document as it becomes a training configuration (nesting bound,
// YAML parsing, flattening, key checks, value parsing, run-length and model-size checks).
import FuzzSupport
import Foundation
@testable import GradusRuntime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    guard data.count <= TrainConfigParsing.maxFileBytes, let text = try? TextFiles.utf8(data, source: "fuzz.yaml") else { return 0 }
    var config = TrainConfig()
    guard let pairs = try? TrainConfigParsing.flatten(yaml: text, source: "fuzz.yaml"),
          (try? TrainConfigParsing.apply(pairs, to: &config)) != nil,
          (try? Trainer.validate(config)) != nil else { return 0 }
    _ = try? Trainer.checkRunLength(config, rows: 1437)
    _ = try? Trainer.checkModelSize(config, features: 64, image: [1, 8, 8], classes: 10)
    // The configuration must survive its own round trip through a checkpoint's metadata.
    var again = TrainConfig()
    again.optimizerSettings = []
    do { try TrainConfigParsing.apply(TrainConfigParsing.pairs(config), to: &again) } catch {
        fatalError("a configuration that applied cleanly does not read back: \(error)")
    }
    return 0
}

/// The executable's entry (SwiftPM links `main` to this symbol): libFuzzer's driver.
@_cdecl("fuzz_TrainingConfig_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
