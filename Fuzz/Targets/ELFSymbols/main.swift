// libFuzzer target: the ELF dynamic-symbol reader the loader runs before dlopen.
import FuzzSupport
@testable import GradusRuntime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    _ = try? ELFSymbols.exportedFunctions(bytes)
    return 0
}

/// The executable's entry (SwiftPM links `main` to this symbol): libFuzzer's driver.
@_cdecl("fuzz_ELFSymbols_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
