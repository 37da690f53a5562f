// libFuzzer target: the function signature grammar ("f64 name(i64 step, f64 base)").
import FuzzSupport
@testable import GradusRuntime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    if let signature = try? FunctionSignature(parsing: text) {
        // What parses prints back to text that parses to the same signature.
        guard (try? FunctionSignature(parsing: signature.description)) == signature else {
            fatalError("signature '\(signature)' does not round-trip")
        }
    }
    return 0
}

/// The executable's entry (SwiftPM links `main` to this symbol): libFuzzer's driver.
@_cdecl("fuzz_FunctionSignature_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { fuzzOne($0, $1) }
}
