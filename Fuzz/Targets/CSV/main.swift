// libFuzzer target: the CSV loader (UTF-8 decoding, header, cells, labels) on arbitrary bytes.
import FuzzSupport
import Foundation
@testable import GradusRuntime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let d = try? Dataset.csv(data, source: "fuzz.csv") {
        _ = try? d.split(testFraction: 0.2, seed: 0)
    }
    return 0
}

/// The executable's entry (SwiftPM links `main` to this symbol): libFuzzer's driver.
@_cdecl("fuzz_CSV_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
