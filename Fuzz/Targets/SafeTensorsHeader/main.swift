// libFuzzer target: the safetensors reader (header checks and tensor copies) on arbitrary bytes.
import FuzzSupport
import Foundation
@testable import GradusRuntime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    _ = try? SafeTensors.decode(data, source: "fuzz")
    return 0
}

/// The executable's entry (SwiftPM links `main` to this symbol): libFuzzer's driver.
@_cdecl("fuzz_SafeTensorsHeader_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
