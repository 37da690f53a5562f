import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// Plugins of every minor of ABI 1 keep working: one answering minor 0 (built against the 1.0
/// header) loads and steps; one answering 1 gets exact (F64) scalar slots that checkpoint as F64;
/// a minor-0 plugin that declares an exact slot is refused with the reason.
final class ABIMinorTests: XCTestCase {
    /// A probe optimizer that counts its steps in slot `count` (kind `kind`) and answers `minor`.
    func probe(minor: String, kind: String) throws -> StrategyDescriptor {
        var source = TestSupport.probeOptimizer(id: "acme.counter", capabilities: "0", slots: ["count"], step: """
            (void)h;
            const gradus_param *p = GRADUS_ARRAY_AT(const gradus_param, g->params, 0);
            if (p->struct_size >= sizeof(gradus_param) && p->scalars != NULL && p->slots[0] == NULL) p->scalars[0] += 1;
            else p->slots[0]->data[0] += 1;
            return GRADUS_OK;
            """)
        source = source.replacingOccurrences(of: "GRADUS_SLOT_SCALAR, ", with: "\(kind), ")
            .replacingOccurrences(of: "r->abi_minor = gradus_negotiated_minor(q);", with: "r->abi_minor = \(minor); (void)q;")
        return try TestSupport.registry(compilingC: source).require("acme.counter", kind: .optimizer)
    }

    func testAMinorZeroPluginLoadsAndSteps() throws {
        let s = try probe(minor: "0", kind: "GRADUS_SLOT_SCALAR")
        XCTAssertEqual(s.abiVersion, "1.0")
        let session = try OptimizerSession(strategy: s, hyperparameters: HyperparameterSet(schema: [], owner: s.id),
                                           parameters: [HostParameter(name: "w", role: .vector, shape: [2], values: [1, 2])])
        for _ in 0..<3 { try session.step() }
        XCTAssertEqual(session.snapshot()[0], [.floats([3])])
    }

    func testExactScalarSlotsCountPast2To24() throws {
        let s = try probe(minor: "1", kind: "GRADUS_SLOT_SCALAR_F64")
        XCTAssertEqual(s.abiVersion, "1.1")
        let session = try OptimizerSession(strategy: s, hyperparameters: HyperparameterSet(schema: [], owner: s.id),
                                           parameters: [HostParameter(name: "w", role: .vector, shape: [2], values: [1, 2])])
        try session.restore(stepCount: 1 << 24, state: [[.exact(Double(1 << 24))]])
        try session.step()
        XCTAssertEqual(session.snapshot()[0], [.exact(Double(1 << 24) + 1)], "a float slot would stay at 2^24")
    }

    func testAMinorZeroPluginDeclaringAnExactSlotIsRefused() throws {
        let s = try probe(minor: "0", kind: "GRADUS_SLOT_SCALAR_F64")
        XCTAssertThrowsError(try OptimizerSession(strategy: s, hyperparameters: HyperparameterSet(schema: [], owner: s.id),
                                                  parameters: [HostParameter(name: "w", role: .vector, shape: [1], values: [1])])) {
            XCTAssertEqual("\($0)", "acme.counter: state slot 'count' is an exact (F64) scalar, which needs ABI 1.1, but the plugin negotiated 1.0")
        }
    }
}
