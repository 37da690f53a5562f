// libFuzzer target: the NPY and IDX readers (headers, shapes, element decoding) on arbitrary bytes.
import FuzzSupport
@testable import GradusRuntime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let first = bytes.first else { return 0 }
    // The first byte picks the reader, so each sees inputs that pass its magic check.
    let rest = Array(bytes.dropFirst())
    if first & 1 == 0 {
        _ = try? ArrayFiles.npy([0x93] + Array("NUMPY".utf8) + rest, "fuzz.npy")
    } else if rest.count >= 4 {
        _ = try? ArrayFiles.idx([0, 0] + rest, "fuzz.idx")
    }
    return 0
}

/// The executable's entry (SwiftPM links `main` to this symbol): libFuzzer's driver.
@_cdecl("fuzz_ArrayFileHeaders_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
