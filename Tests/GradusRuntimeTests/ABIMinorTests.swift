import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// Plugins of every minor of ABI 1 keep working: the SDK's C example built against the frozen 1.0
/// and 1.1 headers (Fixtures/sdk-1.<minor>) loads and runs exactly like one built against today's;
/// a plugin answering 1 gets exact (F64) scalar slots; one answering 2 gets slots shaped per
/// parameter; a plugin that declares a feature of a later minor than it negotiated is refused.
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

    /// A probe answering `minor` whose slot "factor" is shaped by `rule` (C statements setting
    /// out_shape and *out_rank from `param`), or has no slot_shape when `rule` is nil.
    func shapedProbe(minor: String, rule: String?) throws -> StrategyDescriptor {
        var source = TestSupport.probeOptimizer(id: "acme.shaped", capabilities: "0", slots: ["factor"], step: """
            (void)h;
            const gradus_param *p = GRADUS_ARRAY_AT(const gradus_param, g->params, 0);
            for (int64_t i = 0; i < p->slots[0]->count; i++) p->slots[0]->data[i] += (float)(i + 1);
            return GRADUS_OK;
            """)
        source = source.replacingOccurrences(of: "GRADUS_SLOT_SCALAR, ", with: "GRADUS_SLOT_SHAPED, ")
            .replacingOccurrences(of: "r->abi_minor = gradus_negotiated_minor(q);", with: "r->abi_minor = \(minor); (void)q;")
        if let rule {
            source = source.replacingOccurrences(of: "static const gradus_optimizer_vtable vt = {", with: """
                static int32_t shape(void *i, uint32_t slot, const gradus_param *param, int64_t *out_shape, uint32_t *out_rank) {
                    (void)i; (void)slot; (void)param; \(rule) return GRADUS_OK; }
                static const gradus_optimizer_vtable vt = {
                """).replacingOccurrences(of: ".step = step };", with: ".step = step, .slot_shape = shape };")
        }
        return try TestSupport.registry(compilingC: source).require("acme.shaped", kind: .optimizer)
    }

    func session(_ s: StrategyDescriptor, _ shape: [Int]) throws -> OptimizerSession {
        try OptimizerSession(strategy: s, hyperparameters: HyperparameterSet(schema: [], owner: s.id),
                             parameters: [HostParameter(name: "w", role: .matrix, shape: shape)])
    }

    func testShapedSlotsTakeThePluginsShapePerParameter() throws {
        let s = try shapedProbe(minor: "2", rule: "out_shape[0] = param->value->shape[0]; out_shape[1] = 1; *out_rank = 2;")
        XCTAssertEqual(s.abiVersion, "1.2")
        let run = try session(s, [3, 5])
        XCTAssertEqual(run.state[0][0].shape, [3, 1])
        try run.step()
        XCTAssertEqual(run.snapshot()[0], [.floats([1, 2, 3])])
        let empty = try shapedProbe(minor: "2", rule: "out_shape[0] = 0; *out_rank = 1;")
        XCTAssertEqual(try session(empty, [4]).state[0][0].count, 0, "a size of 0 leaves the slot empty")
    }

    func testBadShapesAndMissingMinorsAreRefusedByName() throws {
        func refusal(_ s: StrategyDescriptor, _ shape: [Int] = [2, 2]) -> String {
            do { _ = try session(s, shape); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal(try shapedProbe(minor: "2", rule: "out_shape[0] = -3; *out_rank = 1;")),
                       "acme.shaped: slot_shape of state slot 'factor' for parameter 'w' [2, 2]: shape [-3], expected sizes >= 0 and at most 2^34 elements")
        XCTAssertEqual(refusal(try shapedProbe(minor: "2", rule: "(void)out_shape; *out_rank = 9;")),
                       "acme.shaped: slot_shape of state slot 'factor' for parameter 'w' [2, 2]: rank 9, expected at most 8")
        XCTAssertTrue(refusal(try shapedProbe(minor: "2", rule: "out_shape[0] = 1 << 20; out_shape[1] = 1 << 20; out_shape[2] = 1 << 20; *out_rank = 3;"))
            .hasSuffix("expected sizes >= 0 and at most 2^34 elements"))
        XCTAssertEqual(refusal(try shapedProbe(minor: "2", rule: nil)),
                       "acme.shaped: state slot 'factor' is shaped by the plugin, but its vtable has no slot_shape")
        XCTAssertEqual(refusal(try shapedProbe(minor: "1", rule: "out_shape[0] = 1; *out_rank = 1;")),
                       "acme.shaped: state slot 'factor' is shaped by the plugin, which needs ABI 1.2, but the plugin negotiated 1.1")
    }

    /// The SDK's C example, unchanged, built against the 1.0, 1.1 and current headers: each answers
    /// its own minor and all three trace rosenbrock identically under this host.
    func testTheCExampleBuiltAgainstEveryEarlierMinorsHeadersRunsIdentically() throws {
        let source = try String(contentsOfFile: TestSupport.repositoryRoot + "/SDK/Examples/CPlugin/rmsprop.c", encoding: .utf8)
        var traces: [String: [TracePoint]] = [:]
        for (minor, include) in [("1.0", try TestSupport.fixturePath("sdk-1.0")), ("1.1", try TestSupport.fixturePath("sdk-1.1")),
                                 ("1.2", TestSupport.includeDirectory)] {
            let dir = try TestSupport.temporaryDirectory()
            try source.write(toFile: dir + "/rmsprop.c", atomically: true, encoding: .utf8)
            let (status, _, err) = try TestSupport.run("/usr/bin/env", ["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                                                                        "-I", include, "-o", dir + "/rmsprop.so", dir + "/rmsprop.c"])
            XCTAssertEqual(status, 0, "headers \(minor): \(err)")
            var search = PluginSearch()
            search.environmentPath = nil
            search.paths = [dir]
            search.builtinFolders = []
            let registry = PluginRegistry(search: search)
            let strategy = try XCTUnwrap(registry.strategies.first, "headers \(minor): \(registry.warnings)")
            XCTAssertEqual(strategy.abiVersion, minor)
            var points: [TracePoint] = []
            try TraceRunner.run(optimizer: strategy, function: .named("rosenbrock"), steps: 50, settings: [("lr", "0.001")]) { points.append($0) }
            traces[minor] = points
        }
        XCTAssertEqual(Set(traces.values.map { $0.map(\.x) }).count, 1, "the three builds trace differently")
        XCTAssertEqual(traces.count, 3)
    }

    /// An optimizer declaring an evaluation point needs ABI 1.2 and the vtable entry; without them
    /// the library is refused by name when it is loaded.
    func testEvalPointDeclarationsAreCheckedAtLoading() throws {
        func warnings(minor: String, entry: Bool) throws -> [String] {
            var source = TestSupport.probeOptimizer(id: "acme.sf", capabilities: "GRADUS_CAP_EVAL_POINT", slots: [], step: "(void)h; (void)g; return GRADUS_OK;")
                .replacingOccurrences(of: "r->abi_minor = gradus_negotiated_minor(q);", with: "r->abi_minor = \(minor); (void)q;")
            if entry {
                source = source.replacingOccurrences(of: "static const gradus_optimizer_vtable vt = {", with: """
                    static int32_t eval(void *i, const gradus_step_context *c, const gradus_param_group *g) { (void)i; (void)c; (void)g; return GRADUS_OK; }
                    static const gradus_optimizer_vtable vt = {
                    """).replacingOccurrences(of: ".step = step };", with: ".step = step, .eval_point = eval };")
            }
            let registry = try TestSupport.registry(compilingC: source)
            XCTAssertEqual(registry.strategy("acme.sf") == nil, !(minor == "2" && entry))
            return registry.warnings
        }
        XCTAssertTrue(try warnings(minor: "2", entry: false).contains { $0.hasSuffix("strategy 'acme.sf' declares eval_point but has no optimizer vtable entry eval_point") })
        XCTAssertTrue(try warnings(minor: "1", entry: true).contains { $0.hasSuffix("strategy 'acme.sf' declares eval_point, which needs ABI 1.2, but the plugin negotiated 1.1") })
        XCTAssertEqual(try warnings(minor: "2", entry: true), [])
    }
}
