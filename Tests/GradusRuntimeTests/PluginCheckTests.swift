import CGradusABI
import XCTest
@testable import GradusRuntime
import GradusTestSupport

/// The metamorphic kit (`gradus plugins check`) over every plugin the host finds.
final class PluginCheckTests: XCTestCase {
    /// Properties that do not apply to a built-in, with the reason (every other one must pass).
    static let notApplicable: [String: Set<String>] = [
        // lr is only Rprop's initial step size (torch's): neither 0 nor a schedule means anything.
        "gradus.rprop": ["lr = 0 does not move", "schedulable values are read every step"],
        // Adan clips by the gradient norm of the whole group (max_grad_norm), so it declares a global view.
        "gradus.adan": ["parameters are updated independently"],
        // DoG, Prodigy and D-Adaptation measure distances and sums over the whole group (global view).
        "gradus.dog": ["parameters are updated independently"],
        "gradus.prodigy": ["parameters are updated independently"],
        "gradus.dadapt_adam": ["parameters are updated independently"],
        // Schedule-free methods replace the learning-rate schedule; their lr is not schedulable.
        "gradus.schedulefree_adamw": ["schedulable values are read every step"],
        // Optimistic AMSGrad places the parameters at an offset s·h/D of its auxiliary iterate: a
        // learning rate that changes moves them even at 0, so it is not schedulable.
        "gradus.optimistic_amsgrad": ["schedulable values are read every step"],
    ]

    func testEveryBuiltinPassesTheKit() throws {
        let registry = TestSupport.builtinRegistry()
        var applied = 0
        for s in registry.strategies {
            var skipped: Set<String> = []
            for r in PluginCheck.run(s) {
                XCTAssertNotEqual(r.passed, false, "\(s.id): \(r.name) — \(r.detail)")
                if r.passed == true { applied += 1 }
                if r.passed == nil, s.kind == .optimizer { skipped.insert(r.name) }
            }
            XCTAssertEqual(skipped, Self.notApplicable[s.id] ?? [], "\(s.id): properties that did not apply")
        }
        let optimizers = registry.strategies.filter { $0.kind == .optimizer }.count
        // every optimizer × 8 properties (less the documented exceptions), every normalizer × (finite
        // differences, graph = kernel, eval per-sample), 2 pruner properties, 4 signatures.
        let normalizers = registry.strategies.filter { $0.kind == .normalizer }.count
        XCTAssertEqual(normalizers, 3, "layernorm, batchnorm, rmsnorm")
        let evalPoint = registry.strategies.filter { $0.capabilities & UInt64(GRADUS_CAP_EVAL_POINT) != 0 }.count
            + registry.strategies.filter { $0.kind == .optimizer }.map { PluginCheck.familyChecks($0).count }.reduce(0, +)
        XCTAssertEqual(registry.strategies.filter { !PluginCheck.familyChecks($0).isEmpty }.map(\.id).sorted(),
                       ["gradus.dadapt_adam", "gradus.dog", "gradus.ldog", "gradus.muon", "gradus.prodigy"], "family properties apply to their families")
        XCTAssertEqual(applied, optimizers * 8 + evalPoint - Self.notApplicable.values.map(\.count).reduce(0, +) + normalizers * 3 + 2 + 4)
    }

    /// The kit must catch a plugin that breaks a property, not only pass good ones.
    func testKitFlagsABrokenOptimizer() throws {
        let source = """
        #include <gradus/gradus.h>
        static int token;
        static int32_t create(const struct gradus_strategy_descriptor *s, const gradus_host_services *h, const gradus_hp_values *hp, void **out) {
            (void)s; (void)h; (void)hp; *out = &token; return GRADUS_OK; }
        static void destroy(void *i) { (void)i; }
        static int32_t layout(void *i, const gradus_state_slot **s, uint32_t *n) { (void)i; *s = NULL; *n = 0; return GRADUS_OK; }
        static float drift = 0.0f;  /* hidden global state: breaks determinism and lr = 0 */
        static int32_t step(void *i, const gradus_step_context *c, const gradus_param_group *g) {
            (void)i; (void)c; drift += 1.0f;
            for (uint32_t k = 0; k < g->count; k++) { const gradus_param *p = GRADUS_ARRAY_AT(const gradus_param, g->params, k);
                p->value->data[0] += drift; }
            return GRADUS_OK; }
        static const gradus_optimizer_vtable vt = { .struct_size = sizeof(gradus_optimizer_vtable), .abi_minor = 0, .create = create, .destroy = destroy, .state_layout = layout, .step = step };
        static const gradus_hyperparameter hp[] = { { sizeof(gradus_hyperparameter), 0, "lr", "lr", "", GRADUS_HP_F64, 0,
            0.1, 0.0, 1.0, 0, 0, 0, NULL, NULL, 0, 0 } };
        static const gradus_strategy_descriptor d = { sizeof(gradus_strategy_descriptor), 0, GRADUS_KIND_OPTIMIZER, 0,
            "test.drift", "Drift", "0.0.1", "moves no matter what", NULL, 0, hp, 1, 0, &vt };
        static const gradus_strategy_descriptor *const list[] = { &d };
        static const gradus_library_descriptor lib = { sizeof(gradus_library_descriptor), 0, "drift", NULL, list, 1, 0 };
        GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *q, gradus_entry_response *r);
        GRADUS_EXPORT int32_t gradus_plugin_entry_v1(const gradus_entry_request *q, gradus_entry_response *r) {
            r->abi_minor = gradus_negotiated_minor(q); r->library = &lib; return GRADUS_OK; }
        """
        let file = try TestSupport.temporaryDirectory() + "/drift.so"
        try TestSupport.compileC(source, to: file)
        let drift = try XCTUnwrap(PluginLoader.load(file).strategies.first)
        let failed = PluginCheck.run(drift).filter { $0.passed == false }.map(\.name)
        XCTAssertEqual(Set(failed), ["zero gradient is a no-op", "lr = 0 does not move", "same inputs give the same bits",
                                     "parameters are updated independently", "save and load mid-run equals a continuous run"])
    }
}
