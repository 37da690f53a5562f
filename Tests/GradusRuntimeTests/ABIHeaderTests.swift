import CGradusABI
import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// The C headers: they compile warning-free as C99, C11 and C++17, and the layout of every
/// struct is recorded per minor (Fixtures/abi_layout_v1_<minor>.txt): the current layout must
/// equal the current minor's record, and every field of every earlier minor must keep its
/// offset (structs only grow at the end) — anything else is an ABI break.
final class ABIHeaderTests: XCTestCase {
    func testHeadersCompileStrictlyAsC99C11AndCpp17() throws {
        let dir = try TestSupport.temporaryDirectory()
        let source = "#include <gradus/gradus.h>\nint main(void) { return GRADUS_OK; }\n"
        try source.write(toFile: dir + "/main.c", atomically: true, encoding: .utf8)
        try source.replacingOccurrences(of: "(void)", with: "()").write(toFile: dir + "/main.cpp", atomically: true, encoding: .utf8)
        for (compiler, std, file) in [("cc", "-std=c99", "main.c"), ("cc", "-std=c11", "main.c"), ("c++", "-std=c++17", "main.cpp")] {
            let (status, _, err) = try TestSupport.run("/usr/bin/env", [compiler, std, "-Wall", "-Wextra", "-pedantic", "-Werror",
                                                                        "-I", TestSupport.includeDirectory, "-o", dir + "/a.out", dir + "/" + file])
            XCTAssertEqual(status, 0, "\(compiler) \(std): \(err)")
        }
    }

    func testStructLayoutsAreFrozen() throws {
        let dir = try TestSupport.temporaryDirectory()
        let url = URL(fileURLWithPath: try TestSupport.fixturePath("abi_layout.c"))
        let (cc, _, ccErr) = try TestSupport.run("/usr/bin/env", ["cc", "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror",
                                                                  "-I", TestSupport.includeDirectory, "-o", dir + "/layout", url.path])
        XCTAssertEqual(cc, 0, ccErr)
        let (status, output, _) = try TestSupport.run(dir + "/layout", [])
        XCTAssertEqual(status, 0)
        func record(_ minor: Int) throws -> String {
            try String(contentsOfFile: TestSupport.fixturePath("abi_layout_v1_\(minor).txt"), encoding: .utf8)
        }
        XCTAssertEqual(output, try record(Int(GRADUS_ABI_MINOR)), "the layout differs from Fixtures/abi_layout_v1_\(GRADUS_ABI_MINOR).txt")
        let now = Dictionary(uniqueKeysWithValues: output.split(separator: "\n").map { line -> (String, Int) in
            let parts = line.split(separator: " ")
            return (String(parts[0]), Int(parts[1])!)
        })
        for minor in 0..<Int(GRADUS_ABI_MINOR) {
            for line in try record(minor).split(separator: "\n") {
                let parts = line.split(separator: " "), name = String(parts[0]), value = Int(parts[1])!
                if name.contains(".") {
                    XCTAssertEqual(now[name], value, "ABI 1.\(minor) field \(name) moved")
                } else {
                    XCTAssertGreaterThanOrEqual(now[name] ?? 0, value, "ABI 1.\(minor) struct \(name) shrank")
                }
            }
        }

        // The host accepts plugin-written structs down to their 1.0 size: exactly the structs that
        // grew since 1.0 have a smaller floor, and it is their 1.0 size.
        let v10 = Dictionary(uniqueKeysWithValues: try record(0).split(separator: "\n").compactMap { line -> (String, Int)? in
            let parts = line.split(separator: " ")
            return parts[0].contains(".") ? nil : (String(parts[0]), Int(parts[1])!)
        })
        XCTAssertEqual(Set(v10.filter { now[$0.key] != $0.value }.keys), ["gradus_optimizer_vtable", "gradus_param", "gradus_host_services"])
        XCTAssertEqual(ABIRead.sizeInABI10(gradus_host_services.self), v10["gradus_host_services"])
        XCTAssertEqual(ABIRead.sizeInABI10(gradus_optimizer_vtable.self), v10["gradus_optimizer_vtable"])
        XCTAssertEqual(ABIRead.sizeInABI10(gradus_param.self), v10["gradus_param"])
        XCTAssertEqual(ABIRead.sizeInABI10(gradus_state_slot.self), v10["gradus_state_slot"])

        var sizes: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            let name = String(parts[0]), value = Int(parts[1])!
            if name.hasSuffix(".struct_size") { XCTAssertEqual(value, 0, name) }
            if name.hasSuffix(".abi_minor") { XCTAssertEqual(value, 4, name) }
            if !name.contains(".") { sizes[name] = value }
        }
        XCTAssertEqual(sizes.count, 23)
        let swiftSizes: [String: Int] = [
            "gradus_tensor_view": MemoryLayout<gradus_tensor_view>.size, "gradus_hyperparameter": MemoryLayout<gradus_hyperparameter>.size,
            "gradus_hp_value": MemoryLayout<gradus_hp_value>.size, "gradus_hp_values": MemoryLayout<gradus_hp_values>.size,
            "gradus_host_services": MemoryLayout<gradus_host_services>.size, "gradus_state_slot": MemoryLayout<gradus_state_slot>.size,
            "gradus_param": MemoryLayout<gradus_param>.size, "gradus_param_group": MemoryLayout<gradus_param_group>.size,
            "gradus_step_context": MemoryLayout<gradus_step_context>.size, "gradus_bytes": MemoryLayout<gradus_bytes>.size,
            "gradus_optimizer_vtable": MemoryLayout<gradus_optimizer_vtable>.size, "gradus_norm_config": MemoryLayout<gradus_norm_config>.size,
            "gradus_norm_tensor_spec": MemoryLayout<gradus_norm_tensor_spec>.size,
            "gradus_normalizer_vtable": MemoryLayout<gradus_normalizer_vtable>.size,
            "gradus_prune_target": MemoryLayout<gradus_prune_target>.size, "gradus_prune_plan": MemoryLayout<gradus_prune_plan>.size,
            "gradus_prune_context": MemoryLayout<gradus_prune_context>.size, "gradus_pruner_vtable": MemoryLayout<gradus_pruner_vtable>.size,
            "gradus_function_vtable": MemoryLayout<gradus_function_vtable>.size,
            "gradus_strategy_descriptor": MemoryLayout<gradus_strategy_descriptor>.size,
            "gradus_library_descriptor": MemoryLayout<gradus_library_descriptor>.size,
            "gradus_entry_request": MemoryLayout<gradus_entry_request>.size, "gradus_entry_response": MemoryLayout<gradus_entry_response>.size,
        ]
        XCTAssertEqual(sizes, swiftSizes, "Swift imports the structs with the C layout")
    }

    func testStatusCodesAreFrozen() {
        XCTAssertEqual([GRADUS_OK, GRADUS_ERR_INVALID_ARGUMENT, GRADUS_ERR_OUT_OF_RANGE, GRADUS_ERR_UNSUPPORTED, GRADUS_ERR_OUT_OF_MEMORY,
                        GRADUS_ERR_VERSION, GRADUS_ERR_NUMERIC, GRADUS_ERR_STATE, GRADUS_ERR_INTERNAL, GRADUS_ERR_REFUSED],
                       Array(0..<10))
        XCTAssertEqual(GRADUS_STATUS_COUNT, 10)
        XCTAssertEqual(GRADUS_ABI_MAJOR, 1)
    }
}
